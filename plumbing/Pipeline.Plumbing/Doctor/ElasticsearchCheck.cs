using System.Net.Http.Headers;
using System.Text;
using Pipeline.Plumbing.Config;

namespace Pipeline.Plumbing.Doctor;

/// <summary>
/// Elasticsearch (when <c>elasticsearch.url</c> is set) answers <c>GET /</c> with the credentials and the
/// <c>X-Elastic-Product: Elasticsearch</c> header the official client insists on; its Date header also
/// tells how far this host's clock is off, which shifts every event's window.
/// </summary>
public static class ElasticsearchCheck
{
    /// <summary>Beyond this, events land in the wrong windows and late-event drops start.</summary>
    public static readonly TimeSpan MaxClockOffset = TimeSpan.FromSeconds(5);

    public static async Task<IReadOnlyList<CheckResult>> CheckAsync(ElasticsearchConfig config, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(config.Url)) return [CheckResult.Ok("elasticsearch", "not configured (sinks write NDJSON files)")];
        using var http = new HttpClient { Timeout = timeout };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(config.Url), "/"));
        if (config.ApiKey.Length > 0) request.Headers.Authorization = new AuthenticationHeaderValue("ApiKey", config.ApiKey);
        else if (config.Username.Length > 0)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{config.Username}:{config.Password}")));

        HttpResponseMessage response;
        var sent = DateTimeOffset.UtcNow;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return [CheckResult.Fail("elasticsearch", $"{config.Url} did not answer: {e.Message}", "check elasticsearch.url and the network path")];
        }
        var received = DateTimeOffset.UtcNow;
        using (response)
        {
            if ((int)response.StatusCode is 401 or 403)
                return [CheckResult.Fail("elasticsearch", $"{config.Url} refused the credentials ({(int)response.StatusCode})", "check elasticsearch.api_key or username/password")];
            if (!response.IsSuccessStatusCode)
                return [CheckResult.Fail("elasticsearch", $"{config.Url} answered {(int)response.StatusCode} {response.ReasonPhrase}", "check elasticsearch.url")];
            if (!response.Headers.TryGetValues("X-Elastic-Product", out var product) || !product.Contains("Elasticsearch"))
                return [CheckResult.Fail("elasticsearch", $"{config.Url} answers, but without the X-Elastic-Product: Elasticsearch header (a proxy, or not Elasticsearch)",
                    "point elasticsearch.url at Elasticsearch itself; the official client refuses anything else")];

            var results = new List<CheckResult> { CheckResult.Ok("elasticsearch", $"{config.Url} answers as Elasticsearch") };
            if (response.Headers.Date is { } date)
            {
                // The Date header has one-second resolution: compare with the middle of the round trip.
                var offset = date - (sent + (received - sent) / 2);
                results.Add(offset.Duration() <= MaxClockOffset
                    ? CheckResult.Ok("clock", $"within {offset.Duration().TotalSeconds:0.#}s of Elasticsearch's")
                    : CheckResult.Fail("clock", $"{offset.TotalSeconds:+0;-0}s off Elasticsearch's clock", "run NTP (systemd-timesyncd or chrony) on this host"));
            }
            return results;
        }
    }
}
