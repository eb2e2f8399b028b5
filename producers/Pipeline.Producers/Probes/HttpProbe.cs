using System.Buffers;
using System.Net.Http;
using System.Net.Security;
using System.Text;
using System.Text.RegularExpressions;
using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Probes;

/// <summary>
/// <c>http</c>: one request; the status must be <c>expect_status</c>, the body must match <c>body_regex</c>
/// and the answer must come within <c>max_latency</c>. TLS is verified unless <c>tls_verify = false</c>.
/// Value: latency in ms. One client per probe, so connections are reused between runs like a real client's.
/// </summary>
public sealed class HttpProbe : IProbe, IDisposable
{
    private const int BodyBytesChecked = 64 * 1024;

    private readonly HttpClient _client;
    private readonly HttpMethod _method;
    private readonly Uri _url;
    private readonly int _expectStatus;
    private readonly Regex? _body;
    private readonly TimeSpan? _maxLatency;

    public HttpProbe(ProbeConfig config)
    {
        Target = config.Target;
        _url = new Uri(config.Target);
        _method = HttpMethod.Parse(config.Method);
        _expectStatus = config.ExpectStatus;
        _body = config.BodyRegex.Length > 0 ? new Regex(config.BodyRegex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)) : null;
        _maxLatency = config.MaxLatency.Length > 0 ? Duration.Parse(config.MaxLatency) : null;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // a redirect is an answer to check, not something to follow silently
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), // pick up DNS changes
            ConnectTimeout = Timeout.InfiniteTimeSpan, // the probe's timeout bounds everything
        };
        if (!config.TlsVerify)
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = static (_, _, _, _) => true };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("pipeline-probe/1");
    }

    public string Target { get; }

    public async ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(_method, _url);
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            return NetworkFailure.Classify(e, Target);
        }
        using (response)
        {
            string? body = _body is null ? null : await ReadPrefixAsync(response, cancellationToken).ConfigureAwait(false);
            double ms = Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, 2);
            int status = (int)response.StatusCode;
            if (status != _expectStatus)
                return ProbeResult.Problem(ProbeReasons.UnexpectedStatus, $"{_method} {Target} answered {status}, expected {_expectStatus}", ms);
            if (_body is not null && !_body.IsMatch(body!))
                return ProbeResult.Problem(ProbeReasons.BodyMismatch, $"{_method} {Target}: the body does not match /{_body}/", ms);
            if (_maxLatency is { } max && ms > max.TotalMilliseconds)
                return ProbeResult.Problem(ProbeReasons.Slow, $"{_method} {Target} answered {status} in {ms} ms, slower than {Duration.Format(max)}", ms);
            return ProbeResult.Ok($"{_method} {Target} answered {status} in {ms} ms", ms);
        }
    }

    private static async Task<string> ReadPrefixAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BodyBytesChecked);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            int total = 0;
            while (total < BodyBytesChecked)
            {
                int n = await stream.ReadAsync(buffer.AsMemory(total, BodyBytesChecked - total), cancellationToken).ConfigureAwait(false);
                if (n == 0) break;
                total += n;
            }
            return Encoding.UTF8.GetString(buffer, 0, total);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => _client.Dispose();
}
