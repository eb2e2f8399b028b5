using System.Text.Json;
using Pipeline.Testing;
using Pipeline.Testing.Elasticsearch;

namespace Pipeline.EndToEnd.Tests;

/// <summary>
/// `pipeline run` as a separate process on the embedded broker, checked the way users check it:
/// kcat reads the alert, a real Prometheus scrapes the counters, Elasticsearch (the test server) gets the documents.
/// </summary>
public class PipelineRunTests
{
    private static string Config(TempDirectory dir, int metricsPort, Uri elasticsearch, int threshold = 5, bool processes = true) => $$$"""
        data_dir = "{{{dir.File("data")}}}"
        host_name = "e2e-host"

        [metrics]
        listen = "127.0.0.1:{{{metricsPort}}}"

        [[logs.inputs]]
        paths = ["{{{dir.File("logs")}}}/*.log"]
        start_at = "beginning"
        scan_interval = "100ms"

        [process]
        enabled = {{{(processes ? "true" : "false")}}}

        [processors]
        default_rules = false

        [[rules]]
        name = "e2e-errors"
        source = "logs"
        where = 'log.level == "error"'
        group_by = ["host.name"]
        aggregate = "count()"
        op = ">="
        threshold = {{{threshold}}}
        window = "30s"
        severity = "critical"
        summary = "{{value}} error lines in {{window}} on {{host.name}}"

        [elasticsearch]
        url = "{{{elasticsearch}}}"

        [sinks]
        linger = "100ms"
        """;

    private static void Append(string file, IEnumerable<string> lines) => File.AppendAllLines(file, lines);

    private static async Task<string> WaitForBroker(PipelineProcess pipeline, string dataDir)
    {
        await pipeline.WaitForLineAsync(l => l.StartsWith("embedded Kafka broker at", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        return File.ReadAllText(Path.Combine(dataDir, "bootstrap")).Trim();
    }

    [Fact]
    public async Task AppendedErrorLinesReachKcatPrometheusAndElasticsearch()
    {
        if (Peers.MissingReason("kcat", "kcat") is { } noKcat) Assert.Skip(noKcat);
        if (Peers.MissingReason("prometheus", "prometheus") is { } noProm) Assert.Skip(noProm);
        using var dir = new TempDirectory("e2e");
        Directory.CreateDirectory(dir.File("logs"));
        var log = dir.File("logs/app.log");
        await using var es = await ElasticsearchTestServer.StartAsync();
        int metricsPort = FreePort.Next();
        File.WriteAllText(dir.File("pipeline.toml"), Config(dir, metricsPort, es.Url));

        await using var pipeline = PipelineProcess.Start("run", "--config", dir.File("pipeline.toml"));
        var bootstrap = await WaitForBroker(pipeline, dir.File("data"));
        await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{metricsPort}");

        var lines = new List<string>();
        for (int i = 0; i < 6; i++) lines.Add($"2026-11-27T12:00:0{i}Z ERROR payment {i} failed: upstream timeout");
        for (int i = 0; i < 4; i++) lines.Add($"2026-11-27T12:00:1{i}Z INFO request {i} served");
        Append(log, lines);

        // 1. kcat, a real Kafka client in another process, reads the firing alert.
        var alertJson = await Eventually.Get(async () =>
        {
            var r = await Peers.RunAsync("kcat", ["-b", bootstrap, "-C", "-t", "ops.alerts.v1", "-o", "beginning", "-e", "-q"]);
            return r.Stdout.Split('\n').FirstOrDefault(l => l.Contains("\"firing\"", StringComparison.Ordinal));
        }, l => l is not null, TimeSpan.FromSeconds(60), "a firing alert in ops.alerts.v1");
        var alert = JsonDocument.Parse(alertJson).RootElement;
        Assert.Equal("e2e-errors", alert.GetProperty("alert").GetProperty("name").GetString());
        Assert.Equal(5, alert.GetProperty("alert").GetProperty("value").GetDouble());
        Assert.Equal("e2e-host", alert.GetProperty("host").GetProperty("name").GetString());
        Assert.Equal("5 error lines in 30s on e2e-host", alert.GetProperty("message").GetString());

        // ... and `pipeline run` printed it as one readable line.
        var printed = await pipeline.WaitForLineAsync(l => l.Contains("FIRING", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Contains("e2e-errors", printed);
        Assert.Contains("host=e2e-host", printed);

        // 2. A real Prometheus scraping /metrics answers PromQL with the exact count.
        var shipped = await Eventually.Get(() => prometheus.QueryScalarAsync("sum(pipeline_events_out_total{stage=\"producers.logs\",topic=\"ops.logs.v1\"})"),
            v => v == 10, TimeSpan.FromSeconds(60), "pipeline_events_out_total for the log tailer in Prometheus");
        Assert.Equal(10, shipped);
        Assert.Equal(1, await prometheus.QueryScalarAsync("pipeline_alerts_firing{rule=\"e2e-errors\"}"));

        // 3. Elasticsearch received every line as an ECS document with a stable _id.
        var docs = await Eventually.Get(() => Task.FromResult<IReadOnlyList<StoredDocument>?>(es.Documents("logs-ops.logs-default")),
            d => d?.Count == 10, TimeSpan.FromSeconds(60), "10 log documents in Elasticsearch");
        foreach (var doc in docs)
        {
            var s = doc.Source;
            Assert.Equal(doc.Id, s.GetProperty("event").GetProperty("id").GetString());
            Assert.Equal("e2e-host", s.GetProperty("host").GetProperty("name").GetString());
            Assert.Equal(log, s.GetProperty("log").GetProperty("file").GetProperty("path").GetString());
            Assert.True(s.TryGetProperty("@timestamp", out _));
            Assert.Equal("ops.logs", s.GetProperty("event").GetProperty("dataset").GetString());
        }
        Assert.Equal(6, docs.Count(d => d.Source.GetProperty("log").TryGetProperty("level", out var l) && l.GetString() == "error"));
        Assert.Equal(10, docs.Select(d => d.Id).Distinct().Count());
        await Eventually.Get(() => Task.FromResult<IReadOnlyList<StoredDocument>?>(es.Documents("logs-ops.alerts-default")),
            d => d?.Count >= 1, TimeSpan.FromSeconds(30), "the alert in Elasticsearch");

        // The process producer runs in `pipeline run` too: its samples land in their own data stream.
        var samples = await Eventually.Get(() => Task.FromResult<IReadOnlyList<StoredDocument>?>(es.Documents("metrics-ops.process-default")),
            d => d?.Count >= 1, TimeSpan.FromSeconds(30), "process samples in Elasticsearch");
        Assert.All(samples, d => Assert.Equal("e2e-host", d.Source.GetProperty("host").GetProperty("name").GetString()));
        Assert.Contains(samples, d => d.Source.GetProperty("process").GetProperty("pid").GetInt32() == pipeline.Id);

        Assert.Equal(0, await pipeline.StopAsync(PipelineProcess.SigTerm));
        Assert.Contains("log tailer stopped", pipeline.Stderr);
        Assert.Contains("process sampler stopped", pipeline.Stderr);
    }

    [Fact]
    public async Task TwoRunsOverTheSameDataDirIndexEveryLineExactlyOnce()
    {
        using var dir = new TempDirectory("e2e-restart");
        Directory.CreateDirectory(dir.File("logs"));
        var log = dir.File("logs/app.log");
        await using var es = await ElasticsearchTestServer.StartAsync();
        // Counted below is every item Elasticsearch received; process samples would be counted too.
        File.WriteAllText(dir.File("pipeline.toml"), Config(dir, FreePort.Next(), es.Url, threshold: 1000, processes: false));

        Append(log, Enumerable.Range(0, 50).Select(i => $"first run line {i}"));
        await using (var first = PipelineProcess.Start("run", "--config", dir.File("pipeline.toml")))
        {
            await WaitForBroker(first, dir.File("data"));
            await Eventually.Get(() => Task.FromResult<int?>(es.Documents("logs-ops.logs-default").Count), n => n == 50, TimeSpan.FromSeconds(60), "50 documents after the first run");
            Assert.Equal(0, await first.StopAsync());
        }

        Append(log, Enumerable.Range(0, 30).Select(i => $"second run line {i}"));
        await using (var second = PipelineProcess.Start("run", "--config", dir.File("pipeline.toml")))
        {
            await WaitForBroker(second, dir.File("data"));
            await Eventually.Get(() => Task.FromResult<int?>(es.Documents("logs-ops.logs-default").Count), n => n == 80, TimeSpan.FromSeconds(60), "80 documents after the second run");
            await Task.Delay(TimeSpan.FromSeconds(2)); // anything shipped twice would arrive by now
            Assert.Equal(0, await second.StopAsync());
        }

        var docs = es.Documents("logs-ops.logs-default");
        var messages = docs.Select(d => d.Source.GetProperty("message").GetString()).ToList();
        Assert.Equal(80, messages.Count);
        Assert.Equal(80, messages.Distinct().Count());
        var offsets = docs.Select(d => d.Source.GetProperty("log").GetProperty("offset").GetInt64()).Order().ToList();
        var expected = new List<long>();
        long at = 0;
        foreach (var line in File.ReadAllLines(log)) { expected.Add(at); at += System.Text.Encoding.UTF8.GetByteCount(line) + 1; }
        Assert.Equal(expected, offsets);
        // Nothing was even sent twice: Elasticsearch saw exactly one create per line.
        Assert.Equal(80, es.TotalItemsReceived - es.Documents("logs-ops.alerts-default").Count - es.Documents("logs-ops.deadletter-default").Count);
    }
}

public class PipelineRunAlertmanagerTests
{
    [Fact]
    public async Task ARuleThatFiresInPipelineRunShowsUpInTheRealAlertmanager()
    {
        if (AlertmanagerServer.MissingReason is { } reason) Assert.Skip(reason);
        await using var am = await AlertmanagerServer.StartAsync();
        using var dir = new TempDirectory("e2e-am");
        Directory.CreateDirectory(dir.File("logs"));
        File.WriteAllText(dir.File("pipeline.toml"), $$"""
            data_dir = "{{dir.File("data")}}"
            host_name = "am-host"
            [metrics]
            listen = ""
            [[logs.inputs]]
            paths = ["{{dir.File("logs")}}/*.log"]
            start_at = "beginning"
            scan_interval = "100ms"
            [processors]
            default_rules = false
            [[rules]]
            name = "disk-errors"
            where = 'message contains "I/O error"'
            threshold = 2
            window = "1m"
            severity = "critical"
            labels = { team = "storage" }
            [[alerts.alertmanager]]
            url = "{{am.Url}}"
            """);
        await using var pipeline = PipelineProcess.Start("run", "--config", dir.File("pipeline.toml"));
        await pipeline.WaitForLineAsync(l => l.StartsWith("embedded Kafka broker at", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        File.AppendAllLines(dir.File("logs/kern.log"), ["sda: I/O error, sector 42", "sda: I/O error, sector 43"]);
        var alerts = await Eventually.Get<List<JsonElement>>(async () => await am.AlertsAsync(), l => l?.Count == 1, TimeSpan.FromSeconds(60), "the alert in Alertmanager");
        var labels = alerts[0].GetProperty("labels");
        Assert.Equal("disk-errors", labels.GetProperty("alertname").GetString());
        Assert.Equal("critical", labels.GetProperty("severity").GetString());
        Assert.Equal("am-host", labels.GetProperty("host").GetString());
        Assert.Equal("storage", labels.GetProperty("team").GetString());
        Assert.Equal(0, await pipeline.StopAsync());
    }
}
