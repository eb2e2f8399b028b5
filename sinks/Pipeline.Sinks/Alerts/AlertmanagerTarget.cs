using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Plumbing.Config;
using Pipeline.Schemas.Events;

namespace Pipeline.Sinks.Alerts;

/// <summary>
/// Posts alerts to Alertmanager's API v2 (<c>POST /api/v2/alerts</c>), mapped the way Prometheus does:
/// identifying labels (alertname, severity, host, the rule's labels and group fields), annotations
/// for the human text and numbers, startsAt, and endsAt once resolved.
/// </summary>
public sealed class AlertmanagerTarget : IAlertTarget
{
    private readonly AlertmanagerConfig _config;
    private readonly HttpClient _http;
    private readonly Uri _endpoint;

    public AlertmanagerTarget(AlertmanagerConfig config)
    {
        _config = config;
        _http = AlertHttp.CreateClient(config.CaFile);
        if (config.BearerToken.Length > 0)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", config.BearerToken);
        else if (config.Username.Length > 0)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{config.Username}:{config.Password}")));
        _endpoint = new Uri(new Uri(config.Url.TrimEnd('/') + "/"), "api/v2/alerts");
        Name = $"alertmanager {config.Url}";
    }

    public string Name { get; }

    public bool WantsResend => true;

    public async Task SendAsync(IReadOnlyList<ForwardedAlert> alerts, CancellationToken cancellationToken)
    {
        var body = new List<PostableAlert>(alerts.Count);
        foreach (var a in alerts) body.Add(Map(a.Alert, _config.GeneratorUrl));
        using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, AlertmanagerJsonContext.Default.ListPostableAlert));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(_endpoint, content, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new AlertDeliveryException($"{Name} answered {(int)response.StatusCode}: {text.Trim()}");
        }
    }

    public static PostableAlert Map(AlertEvent alert, string generatorUrl = "")
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["alertname"] = alert.Alert.Name,
            ["severity"] = alert.Alert.Severity,
            ["host"] = alert.Host.Name,
        };
        foreach (var (key, value) in alert.Alert.Group)
        {
            var name = LabelName(key);
            if (!labels.ContainsKey(name)) labels[name] = value;
        }
        if (alert.Labels is not null)
        {
            foreach (var (key, value) in alert.Labels) labels[LabelName(key)] = value;
        }
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["summary"] = alert.Message,
            ["description"] = $"{alert.Alert.Name} on {alert.Host.Name}: value {alert.Alert.Value.ToString("0.##", inv)} {alert.Alert.Op} {alert.Alert.Threshold.ToString("0.##", inv)} over {alert.Alert.Window} (source {alert.Alert.Source}, fingerprint {alert.Alert.Fingerprint})",
            ["value"] = alert.Alert.Value.ToString("0.##", inv),
            ["threshold"] = alert.Alert.Threshold.ToString("0.##", inv),
            ["window"] = alert.Alert.Window,
        };
        return new PostableAlert
        {
            Labels = labels,
            Annotations = annotations,
            StartsAt = alert.Alert.StartedAt,
            EndsAt = alert.Alert.Status == AlertStatus.Resolved ? alert.Timestamp : null,
            GeneratorUrl = generatorUrl.Length == 0 ? null
                : generatorUrl.Replace("{{alert.name}}", Uri.EscapeDataString(alert.Alert.Name), StringComparison.Ordinal)
                              .Replace("{{host.name}}", Uri.EscapeDataString(alert.Host.Name), StringComparison.Ordinal),
        };
    }

    /// <summary>Prometheus label names allow only [a-zA-Z0-9_]: <c>log.file.path</c> becomes <c>log_file_path</c>.</summary>
    public static string LabelName(string key)
    {
        var chars = key.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (!char.IsAsciiLetterOrDigit(chars[i]) && chars[i] != '_') chars[i] = '_';
        }
        if (chars.Length > 0 && char.IsAsciiDigit(chars[0])) return "_" + new string(chars);
        return new string(chars);
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>Alertmanager's API v2 postable alert.</summary>
public sealed record PostableAlert
{
    [JsonPropertyName("labels")] public required Dictionary<string, string> Labels { get; init; }
    [JsonPropertyName("annotations")] public required Dictionary<string, string> Annotations { get; init; }
    [JsonPropertyName("startsAt")] public DateTimeOffset StartsAt { get; init; }
    [JsonPropertyName("endsAt")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? EndsAt { get; init; }
    [JsonPropertyName("generatorURL")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? GeneratorUrl { get; init; }
}

[JsonSerializable(typeof(List<PostableAlert>))]
internal sealed partial class AlertmanagerJsonContext : JsonSerializerContext;
