using System.Net.Http.Headers;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks.Metrics;
using Pipeline.Testing;
using Pipeline.Tests.Sinks.Elasticsearch;

namespace Pipeline.Tests.Plumbing.Telemetry;

/// <summary>/metrics as Prometheus and its tools really read it.</summary>
public class MetricsEndpointTests : IAsyncLifetime
{
    private static int _instances;
    private readonly int _port = FreePort.Next();
    // Metrics are process-wide; a label of its own keeps each test's numbers its own.
    private readonly string _stage = $"test-{Interlocked.Increment(ref _instances)}";
    private MetricsEndpoint? _endpoint;
    private readonly HttpClient _http = new();

    public async ValueTask InitializeAsync()
    {
        _endpoint = new MetricsEndpoint(new MetricsConfig { Listen = $"127.0.0.1:{_port}" }, NullLogger<MetricsEndpoint>.Instance);
        await _endpoint.StartAsync(CancellationToken.None);
        PipelineMetrics.EventsIn.WithLabels(_stage, "ops.logs.v1").Inc(3);
        PipelineMetrics.AlertsFiring.WithLabels("test-rule").Set(1);
        PipelineMetrics.DeadLetters.WithLabels("test", "invalid_json").Inc();
        PipelineMetrics.BulkDuration.WithLabels("test").Observe(0.02);
        PipelineMetrics.ConsumerLag.WithLabels("test", "ops.logs.v1", "0").Set(12);
        // The exporter's series share the endpoint: they must pass the same checks.
        var exporter = new EventMetrics(new ExporterConfig(), Prometheus.Metrics.DefaultFactory);
        exporter.Observe(TopicCatalog.Logs.Name, EventSerializer.Serialize(SampleEvents.Log(1)), 0);
        exporter.Observe(TopicCatalog.Process.Name, EventSerializer.Serialize(SampleEvents.Process(1)), 0);
        exporter.Observe(TopicCatalog.Probes.Name, EventSerializer.Serialize(SampleEvents.Probe(1)), 0);
        exporter.Observe(TopicCatalog.Alerts.Name, EventSerializer.Serialize(SampleEvents.Alert(1)), 0);
        exporter.Tick(0);
    }

    public async ValueTask DisposeAsync()
    {
        if (_endpoint is not null) await _endpoint.StopAsync(CancellationToken.None);
        _endpoint?.Dispose();
        _http.Dispose();
    }

    private async Task<(string Body, string ContentType)> Scrape(string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{_port}/metrics");
        if (accept is not null) request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse(accept));
        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), response.Content.Headers.ContentType?.ToString() ?? "");
    }

    [Fact]
    public async Task ThePipelinesCountersAndTheRuntimeMetricsAreServed()
    {
        var (body, type) = await Scrape();
        Assert.StartsWith("text/plain", type);
        Assert.Contains($"pipeline_events_in_total{{stage=\"{_stage}\",topic=\"ops.logs.v1\"}} 3\n", body);
        Assert.Contains("pipeline_alerts_firing{rule=\"test-rule\"} 1", body);
        Assert.Contains("process_cpu_seconds_total", body);
        Assert.Contains("dotnet_collection_count_total", body);
        Assert.Contains("dotnet_gc_heap_size_bytes{generation=\"gen0\"}", body);
        Assert.Contains("dotnet_threadpool_queue_length", body);
        Assert.Contains("dotnet_exceptions_total", body);
        Assert.Contains("pipeline_sink_bulk_duration_seconds_bucket{sink=\"test\"", body);
        Assert.Contains("pipeline_consumer_lag{stage=\"test\",topic=\"ops.logs.v1\",partition=\"0\"} 12", body);
        Assert.Contains("ops_log_lines_total{host=\"web-1\"", body);
        Assert.Contains("ops_process_cpu_ratio{host=\"web-1\",process=\"nginx\"", body);
        Assert.Contains("ops_alerts_firing{alertname=\"error-burst\"", body);
    }

    [Fact]
    public async Task RequestsForMetricsAreCountedByMethodAndStatus()
    {
        await Scrape();
        using (var post = await _http.PostAsync($"http://127.0.0.1:{_port}/metrics", new StringContent(""), TestContext.Current.CancellationToken))
            Assert.Equal(System.Net.HttpStatusCode.MethodNotAllowed, post.StatusCode);

        var (body, _) = await Scrape();

        Assert.Matches("http_requests_total\\{method=\"GET\",status_code=\"200\"\\} [1-9]", body);
        Assert.Matches("http_requests_total\\{method=\"POST\",status_code=\"405\"\\} [1-9]", body);
    }

    [Fact]
    public async Task PromtoolFindsNoProblemInTheTextFormat()
    {
        if (Peers.MissingReason("promtool", "prometheus") is { } reason) Assert.Skip(reason);
        var (body, _) = await Scrape();
        var result = await Peers.RunAsync("promtool", ["check", "metrics"], stdin: body);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task OpenMetricsIsServedWhenAskedForAndTheStrictParserAcceptsIt()
    {
        var (body, type) = await Scrape("application/openmetrics-text; version=1.0.0");
        Assert.StartsWith("application/openmetrics-text", type);
        Assert.EndsWith("# EOF\n", body);
        var python = Peers.DebianPython;
        if (python is null) Assert.Skip("Debian's /usr/bin/python3 is not installed (apt-get install -y python3-prometheus-client)");
        const string script = """
            import sys
            from prometheus_client.openmetrics.parser import text_string_to_metric_families
            families = list(text_string_to_metric_families(sys.stdin.read()))
            names = {f.name for f in families}
            assert "pipeline_events_in" in names, sorted(names)
            assert "http_requests" in names, sorted(names)
            assert "ops_log_lines" in names, sorted(names)
            assert "pipeline_sink_bulk_duration_seconds" in names, sorted(names)
            print(len(families))
            """;
        var probe = await Peers.RunAsync(python, ["-c", "import prometheus_client"]);
        if (probe.ExitCode != 0) Assert.Skip("python3-prometheus-client is not installed (apt-get install -y python3-prometheus-client); .ci/run installs it");
        var result = await Peers.RunAsync(python, ["-c", script], stdin: body);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(int.Parse(result.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture) > 10);
    }
}
