using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Prometheus;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// Serves <c>GET /metrics</c> on <c>metrics.listen</c>: Prometheus text by default, OpenMetrics when the
/// scraper asks for it in <c>Accept</c>. prometheus-net's own server also exports .NET runtime metrics.
/// </summary>
public sealed class MetricsEndpoint(MetricsConfig config, ILogger<MetricsEndpoint> logger) : IHostedService, IDisposable
{
    private MetricServer? _server;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (config.Listen.Length == 0) return Task.CompletedTask;
        int colon = config.Listen.LastIndexOf(':');
        var host = config.Listen[..colon].Trim('[', ']');
        int port = int.Parse(config.Listen[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        // HttpListener spells "any address" as '+'.
        var listenerHost = host is "0.0.0.0" or "::" or "*" ? "+" : host;
        _server = new MetricServer(listenerHost, port);
        try
        {
            _server.Start();
        }
        catch (Exception e) when (e is System.Net.HttpListenerException or InvalidOperationException)
        {
            throw new InvalidOperationException($"metrics.listen {config.Listen}: cannot serve /metrics: {e.Message}", e);
        }
        logger.LogInformation("metrics at http://{Listen}/metrics", config.Listen);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) await _server.StopAsync().ConfigureAwait(false);
    }

    public void Dispose() => _server?.Dispose();
}
