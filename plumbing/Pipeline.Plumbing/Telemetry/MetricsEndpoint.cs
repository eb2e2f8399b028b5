using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Prometheus;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// Serves <c>GET /metrics</c> on <c>metrics.listen</c>: Prometheus text by default, OpenMetrics when the
/// scraper asks for it in <c>Accept</c>, as Prometheus does. prometheus-net's own MetricServer always
/// answers in the text format and its negotiating middleware needs ASP.NET Core, so this small
/// HttpListener loop does the negotiation and lets prometheus-net write either format.
/// </summary>
public sealed class MetricsEndpoint(MetricsConfig config, ILogger<MetricsEndpoint> logger) : IHostedService, IDisposable
{
    private const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";
    private const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private HttpListener? _listener;
    private Task? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (config.Listen.Length == 0) return Task.CompletedTask;
        PipelineMetrics.EnsureRegistered();
        // Served from the first scrape on, at 0, so rate() sees the series start rather than appear.
        PipelineMetrics.HttpRequests.WithLabels("GET", "200");
        int colon = config.Listen.LastIndexOf(':');
        var host = config.Listen[..colon].Trim('[', ']');
        var port = config.Listen[(colon + 1)..];
        // HttpListener spells "any address" as '+'.
        var listenerHost = host is "0.0.0.0" or "::" or "*" ? "+" : host;
        _listener = new HttpListener();
        _listener.Prefixes.Add($"http://{listenerHost}:{port}/metrics/");
        try
        {
            _listener.Start();
        }
        catch (HttpListenerException e)
        {
            throw new InvalidOperationException($"metrics.listen {config.Listen}: cannot serve /metrics: {e.Message}", e);
        }
        _loop = Task.Run(ServeAsync, CancellationToken.None);
        logger.LogInformation("metrics at http://{Listen}/metrics", config.Listen);
        return Task.CompletedTask;
    }

    private async Task ServeAsync()
    {
        while (_listener is { IsListening: true })
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            _ = RespondAsync(context);
        }
    }

    private async Task RespondAsync(HttpListenerContext context)
    {
        var response = context.Response;
        var method = context.Request.HttpMethod;
        try
        {
            if (method is not ("GET" or "HEAD"))
            {
                response.StatusCode = 405;
                response.AddHeader("Allow", "GET, HEAD");
                return;
            }
            var accept = context.Request.Headers["Accept"] ?? "";
            bool openMetrics = accept.Contains("application/openmetrics-text", StringComparison.OrdinalIgnoreCase);
            response.StatusCode = 200;
            response.ContentType = openMetrics ? OpenMetricsContentType : TextContentType;
            using var buffer = new MemoryStream();
            await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(buffer,
                openMetrics ? ExpositionFormat.OpenMetricsText : ExpositionFormat.PrometheusText, CancellationToken.None).ConfigureAwait(false);
            response.ContentLength64 = buffer.Length;
            if (method == "GET")
            {
                buffer.Position = 0;
                await buffer.CopyToAsync(response.OutputStream).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ScrapeFailedException)
        {
            logger.LogWarning("serving /metrics failed: {Error}", e.Message);
            try { response.StatusCode = 503; } catch (InvalidOperationException) { }
        }
        finally
        {
            // Counted once answered, so a scrape shows the requests before it (as Prometheus' own promhttp does).
            PipelineMetrics.HttpRequests.WithLabels(MethodLabel(method), StatusLabel(response.StatusCode)).Inc();
            try { response.Close(); } catch (HttpListenerException) { }
        }
    }

    // The method is the client's to choose: anything unusual is one label value, so it cannot grow the series.
    private static string MethodLabel(string method) => method is "GET" or "HEAD" or "POST" or "PUT" or "DELETE" or "PATCH" or "OPTIONS" ? method : "other";

    private static string StatusLabel(int status) => status switch
    {
        200 => "200",
        405 => "405",
        503 => "503",
        _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _listener?.Stop();
        if (_loop is not null) await _loop.ConfigureAwait(false);
    }

    public void Dispose() => (_listener as IDisposable)?.Dispose();
}
