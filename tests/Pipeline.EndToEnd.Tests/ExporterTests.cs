using System.Diagnostics;
using System.Globalization;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Testing;

namespace Pipeline.EndToEnd.Tests;

/// <summary>
/// The exporter in a `pipeline sink` process, scraped by a real Prometheus and asked with PromQL. A process started
/// here is sampled the way the agent samples processes (its pid and resident memory from /proc, every half second) and
/// then killed: its series must go away after the configured staleness.
/// </summary>
public class ExporterTests
{
    private const string Host = "exporter-e2e";

    private static byte[] ProcessSample(int pid, long rss, int n) => EventSerializer.Serialize(new ProcessEvent
    {
        Timestamp = DateTimeOffset.UtcNow,
        Event = new EventInfo { Kind = EventKinds.Metric, Dataset = TopicCatalog.Process.Dataset, Id = EventIds.FromParts("sample", pid.ToString(CultureInfo.InvariantCulture), n.ToString(CultureInfo.InvariantCulture)) },
        Host = new HostInfo { Name = Host },
        Process = new ProcessInfo { Pid = pid, Name = "sleep", Cpu = new ProcessCpu { Pct = 0.5, TotalPct = 0.25 }, Memory = new ProcessMemory { Rss = rss, Vsz = rss * 4, Pct = 0.1 } },
    });

    private static byte[] Probe(string name, string status, double ms, string? condition = null) => EventSerializer.Serialize(new ProbeEvent
    {
        Timestamp = DateTimeOffset.UtcNow,
        Event = new EventInfo { Kind = EventKinds.Event, Dataset = TopicCatalog.Probes.Dataset, Id = EventIds.FromParts("probe", name, status) },
        Host = new HostInfo { Name = Host },
        Probe = new ProbeInfo { Name = name, Type = "disk", Target = "/", Status = status, DurationMs = ms, Condition = condition },
        Message = $"{name} {status}",
    });

    private static byte[] Alert(string status) => EventSerializer.Serialize(new AlertEvent
    {
        Timestamp = DateTimeOffset.UtcNow,
        Event = new EventInfo { Kind = EventKinds.Alert, Dataset = TopicCatalog.Alerts.Dataset, Id = EventIds.FromParts("alert", status), Severity = 3 },
        Host = new HostInfo { Name = Host },
        Alert = new AlertInfo
        {
            Name = "error-logs", Status = status, Severity = "critical", Fingerprint = "e2e-fp", Value = 6, Threshold = 5, Op = ">=", Window = "1m",
            Source = "logs", Group = new Dictionary<string, string> { ["host.name"] = Host }, StartedAt = DateTimeOffset.UtcNow,
        },
        Message = "6 error lines",
    });

    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }

    [Fact]
    public async Task PrometheusScrapesTheEventSeriesAndASampledProcessThatDiesGoesStale()
    {
        if (Peers.MissingReason("prometheus", "prometheus") is { } noProm) Assert.Skip(noProm);
        using var dir = new TempDirectory("exporter-e2e");
        int metricsPort = FreePort.Next();
        string Config(string listen) => $"""
            data_dir = "{dir.File("data")}"
            [metrics]
            listen = "{listen}"
            [exporter]
            staleness = "3s"
            [sinks]
            linger = "100ms"
            console_alerts = false
            """;
        File.WriteAllText(dir.File("broker.toml"), Config(""));
        File.WriteAllText(dir.File("sink.toml"), Config($"127.0.0.1:{metricsPort}"));
        await using var broker = PipelineProcess.Start("broker", "--config", dir.File("broker.toml"));
        await broker.WaitForLineAsync(l => l.StartsWith("embedded Kafka broker at", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var bootstrap = File.ReadAllText(dir.File("data/bootstrap")).Trim();
        await using var sink = PipelineProcess.Start("sink", "--config", dir.File("sink.toml"));
        await Eventually.True(() => sink.Stderr.Contains("exporter started", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the exporter reading its partitions");
        await using var prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{metricsPort}");
        using var feed = new EventFeed(bootstrap);

        // A real process, sampled from /proc until it is gone.
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
        using var stopSampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            for (int n = 0; !stopSampling.IsCancellationRequested && Directory.Exists($"/proc/{sleeper.Id}"); n++)
            {
                try { feed.Produce(TopicCatalog.Process, Host, ProcessSample(sleeper.Id, ResidentBytes(sleeper.Id), n)); }
                catch (IOException) { break; } // it died between the check and the read
                feed.Flush();
                await Task.Delay(500);
            }
        });

        // Probes run periodically, as the agent runs them: a probe reported once would go stale after 3 s like the process.
        var prober = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                feed.Produce(TopicCatalog.Probes, Host, Probe("dns", "ok", 12));
                feed.Produce(TopicCatalog.Probes, Host, Probe("root-disk", "problem", 250, "DiskPressure"));
                feed.Flush();
                await Task.Delay(500);
            }
        });
        feed.Logs(10, make: n => EventFeed.Log(n, host: Host, level: n < 6 ? "error" : "info"));
        feed.Produce(TopicCatalog.Alerts, "e2e-fp", Alert(AlertStatus.Firing));
        feed.Flush();

        var timeout = TimeSpan.FromSeconds(60);
        Assert.Equal(6, await Eventually.Get(() => prometheus.QueryScalarAsync($"sum(ops_log_lines_total{{host=\"{Host}\",level=\"error\",service=\"app\"}})"), v => v == 6, timeout, "error lines"));
        Assert.Equal(4, await Eventually.Get(() => prometheus.QueryScalarAsync($"sum(ops_log_lines_total{{host=\"{Host}\",level=\"info\"}})"), v => v == 4, timeout, "info lines"));
        Assert.Equal(1, await Eventually.Get(() => prometheus.QueryScalarAsync($"ops_probe_success{{host=\"{Host}\",probe=\"dns\"}}"), v => v == 1, timeout, "dns probe"));
        Assert.Equal(0, await Eventually.Get(() => prometheus.QueryScalarAsync($"ops_probe_success{{host=\"{Host}\",probe=\"root-disk\"}}"), v => v == 0, timeout, "disk probe"));
        Assert.Equal(0.25, await Eventually.Get(() => prometheus.QueryScalarAsync($"ops_probe_duration_seconds{{host=\"{Host}\",probe=\"root-disk\"}}"), v => v is not null, timeout, "probe duration"));
        Assert.Equal(1, await Eventually.Get(() => prometheus.QueryScalarAsync($"ops_node_condition{{host=\"{Host}\",condition=\"DiskPressure\"}}"), v => v == 1, timeout, "node condition"));
        Assert.Equal(1, await Eventually.Get(() => prometheus.QueryScalarAsync($"ops_alerts_firing{{alertname=\"error-logs\",severity=\"critical\",host=\"{Host}\"}}"), v => v == 1, timeout, "firing alert"));
        var pidSeries = $"ops_process_resident_memory_bytes{{host=\"{Host}\",process=\"sleep\",pid=\"{sleeper.Id}\"}}";
        Assert.True(await Eventually.Get(() => prometheus.QueryScalarAsync(pidSeries), v => v > 0, timeout, "the sampled process") > 0);
        Assert.Equal(0.0025, await prometheus.QueryScalarAsync($"ops_process_cpu_ratio{{pid=\"{sleeper.Id}\"}}"));
        // Prometheus' own scrapes, counted once answered: the second scrape shows the first.
        await Eventually.Get(() => prometheus.QueryScalarAsync("sum(http_requests_total{method=\"GET\",status_code=\"200\"})"), v => v > 0, timeout, "scrapes counted");
        Assert.NotNull(await prometheus.QueryScalarAsync("count(pipeline_consumer_lag{stage=\"exporter\"})"));

        // kill -9 the sampled process: the sampler finds it gone and stops; 3 s later the exporter drops its series and
        // Prometheus, seeing it missing from the next scrape, marks it stale.
        sleeper.Kill();
        await sleeper.WaitForExitAsync();
        await sampler;
        var killedAt = DateTime.UtcNow;
        await Eventually.Get(() => prometheus.QueryScalarAsync(pidSeries), v => v is null, TimeSpan.FromSeconds(30), "the dead process's series gone from PromQL");
        var gone = DateTime.UtcNow - killedAt;
        Assert.True(gone >= TimeSpan.FromSeconds(2), $"gone after {gone}: before the staleness time");
        using var http = new HttpClient();
        Assert.DoesNotContain($"pid=\"{sleeper.Id}\"", await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics"));
        // The rest is untouched: only the dead process went.
        Assert.Equal(1, await prometheus.QueryScalarAsync($"ops_alerts_firing{{host=\"{Host}\"}}"));

        feed.Produce(TopicCatalog.Alerts, "e2e-fp", Alert(AlertStatus.Resolved));
        feed.Flush();
        await Eventually.Get(() => prometheus.QueryScalarAsync($"ops_alerts_firing{{host=\"{Host}\"}}"), v => v is null, timeout, "the resolved alert gone");
        await stopSampling.CancelAsync();
        await prober;
        Assert.Equal(0, await sink.StopAsync());
    }
}
