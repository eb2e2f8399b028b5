using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Pipeline.Plumbing.Config;

namespace Pipeline.Sinks.Alerts;

/// <summary>
/// POSTs each alert document, byte for byte as on the topic, to a URL. <c>X-Pipeline-Signature</c> is
/// <c>sha256=</c> + the hex HMAC-SHA256 of the body under the shared secret, so the receiver can check
/// the sender; <c>X-Pipeline-Delivery</c> is the alert's event id, so it can drop a retried duplicate.
/// </summary>
public sealed class WebhookTarget : IAlertTarget
{
    public const string SignatureHeader = "X-Pipeline-Signature";
    public const string DeliveryHeader = "X-Pipeline-Delivery";

    private readonly HttpClient _http;
    private readonly Uri _url;
    private readonly byte[] _secret;

    public WebhookTarget(WebhookConfig config)
    {
        _http = AlertHttp.CreateClient(config.CaFile);
        _url = new Uri(config.Url);
        _secret = Encoding.UTF8.GetBytes(config.Secret);
        Name = $"webhook {_url.GetLeftPart(UriPartial.Path)}";
    }

    public string Name { get; }

    public bool WantsResend => false;

    public static string Sign(ReadOnlySpan<byte> body, ReadOnlySpan<byte> secret)
        => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    public async Task SendAsync(IReadOnlyList<ForwardedAlert> alerts, CancellationToken cancellationToken)
    {
        // One POST per alert, in order: a receiver sees state changes as they happened.
        foreach (var a in alerts)
        {
            using var content = new ByteArrayContent(a.Raw);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = content };
            request.Headers.Add(SignatureHeader, Sign(a.Raw, _secret));
            request.Headers.Add(DeliveryHeader, a.Alert.Event.Id);
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new AlertDeliveryException($"{Name} answered {(int)response.StatusCode} for alert {a.Alert.Alert.Name} ({a.Alert.Alert.Status})");
        }
    }

    public void Dispose() => _http.Dispose();
}
