using System.Text;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks.Metrics;
using Pipeline.Tests.Sinks.Elasticsearch;
using Prometheus;

namespace Pipeline.Tests.Sinks.Metrics;

/// <summary>What events turn into on /metrics, read back from a private registry in the text format Prometheus scrapes.</summary>
public class EventMetricsTests
{
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();

    private EventMetrics New(ExporterConfig? config = null) => new(config ?? new ExporterConfig(), Prometheus.Metrics.WithCustomRegistry(_registry));

    private string Scrape()
    {
        using var stream = new MemoryStream();
        _registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static byte[] Process(string host, int pid, string name, double totalPct, long rss, string kind = EventKinds.Metric, string? action = null) =>
        EventSerializer.Serialize(SampleEvents.Process(pid) with
        {
            Event = new EventInfo { Kind = kind, Dataset = "ops.process", Id = $"p{pid}-{totalPct}", Action = action },
            Host = new HostInfo { Name = host },
            Process = SampleEvents.Process(pid).Process with
            {
                Pid = pid,
                Name = name,
                Cpu = new ProcessCpu { Pct = totalPct * 2, TotalPct = totalPct },
                Memory = new ProcessMemory { Rss = rss, Vsz = rss * 2, Pct = 1 },
            },
        });

    private static byte[] Probe(string host, string name, string status, double ms, string? condition = null) =>
        EventSerializer.Serialize(SampleEvents.Probe(1) with
        {
            Host = new HostInfo { Name = host },
            Probe = new ProbeInfo { Name = name, Type = "disk", Target = "/", Status = status, DurationMs = ms, Condition = condition },
        });

    private static byte[] Alert(string fingerprint, string status, string rule = "error-logs", string host = "web-1") =>
        EventSerializer.Serialize(SampleEvents.Alert(1) with
        {
            Alert = SampleEvents.Alert(1).Alert with { Fingerprint = fingerprint, Status = status, Name = rule, Group = new Dictionary<string, string> { ["host.name"] = host } },
        });

    [Fact]
    public void LogLinesAreCountedByHostLevelAndService()
    {
        var metrics = New();
        for (int n = 0; n < 5; n++) metrics.Observe(TopicCatalog.Logs.Name, EventSerializer.Serialize(SampleEvents.Log(n)), 0);
        var labelled = SampleEvents.Log(9) with { Labels = new Dictionary<string, string> { ["service"] = "payments" }, Log = SampleEvents.Log(9).Log with { Level = null } };
        metrics.Observe(TopicCatalog.Logs.Name, EventSerializer.Serialize(labelled), 0);

        var text = Scrape();
        Assert.Contains("ops_log_lines_total{host=\"web-1\",level=\"error\",service=\"app\"} 3", text);
        Assert.Contains("ops_log_lines_total{host=\"web-1\",level=\"info\",service=\"app\"} 2", text);
        Assert.Contains("ops_log_lines_total{host=\"web-1\",level=\"unknown\",service=\"payments\"} 1", text);
    }

    [Fact]
    public void ProbesSetSuccessDurationAndTheirNodeCondition()
    {
        var metrics = New();
        metrics.Observe(TopicCatalog.Probes.Name, Probe("web-1", "root-disk", "problem", 250, "DiskPressure"), 0);
        metrics.Observe(TopicCatalog.Probes.Name, Probe("web-1", "dns", "ok", 12), 0);

        var text = Scrape();
        Assert.Contains("ops_probe_success{host=\"web-1\",probe=\"root-disk\"} 0", text);
        Assert.Contains("ops_probe_success{host=\"web-1\",probe=\"dns\"} 1", text);
        Assert.Contains("ops_probe_duration_seconds{host=\"web-1\",probe=\"root-disk\"} 0.25", text);
        Assert.Contains("ops_node_condition{host=\"web-1\",condition=\"DiskPressure\"} 1", text);

        metrics.Observe(TopicCatalog.Probes.Name, Probe("web-1", "root-disk", "ok", 3, "DiskPressure"), 1);
        Assert.Contains("ops_node_condition{host=\"web-1\",condition=\"DiskPressure\"} 0", Scrape());
    }

    [Fact]
    public void OnlyTheTopNProcessesByCpuAndThoseTheFilterMatchesAreExported()
    {
        var metrics = New(new ExporterConfig { ProcessTopN = 2, ProcessFilter = "process.name == \"sshd\"" });
        metrics.Observe(TopicCatalog.Process.Name, Process("web-1", 10, "java", 40, 1000), 0);
        metrics.Observe(TopicCatalog.Process.Name, Process("web-1", 11, "nginx", 20, 2000), 0);
        metrics.Observe(TopicCatalog.Process.Name, Process("web-1", 12, "cron", 1, 3000), 0);
        metrics.Observe(TopicCatalog.Process.Name, Process("web-1", 13, "sshd", 0.5, 4000), 0);
        metrics.Observe(TopicCatalog.Process.Name, Process("db-1", 20, "postgres", 5, 5000), 0);
        metrics.Tick(0);

        var text = Scrape();
        Assert.Contains("ops_process_cpu_ratio{host=\"web-1\",process=\"java\",pid=\"10\"} 0.4", text);
        Assert.Contains("ops_process_resident_memory_bytes{host=\"web-1\",process=\"nginx\",pid=\"11\"} 2000", text);
        Assert.Contains("process=\"sshd\"", text);
        Assert.Contains("process=\"postgres\"", text);
        Assert.DoesNotContain("process=\"cron\"", text);

        // cron climbs into the top two: nginx leaves the selection and its series go at once.
        metrics.Observe(TopicCatalog.Process.Name, Process("web-1", 12, "cron", 90, 3000), 1000);
        metrics.Tick(1000);
        text = Scrape();
        Assert.Contains("process=\"cron\"", text);
        Assert.DoesNotContain("process=\"nginx\"", text);
    }

    [Fact]
    public void AProcessThatIsNoLongerSampledLosesItsSeriesAfterTheStalenessTime()
    {
        var metrics = New(new ExporterConfig { Staleness = "30s" });
        metrics.Observe(TopicCatalog.Process.Name, Process("web-1", 10, "java", 40, 1000), 0);
        metrics.Observe(TopicCatalog.Probes.Name, Probe("web-1", "dns", "ok", 12), 0);
        metrics.Tick(0);
        Assert.Contains("pid=\"10\"", Scrape());

        metrics.Tick(29_000);
        Assert.Contains("pid=\"10\"", Scrape());
        metrics.Tick(30_000);

        var text = Scrape();
        Assert.DoesNotContain("pid=\"10\"", text);
        Assert.DoesNotContain("probe=\"dns\"", text);
        Assert.Equal(0, metrics.SeriesCount);
    }

    [Fact]
    public void OomKillsAreCountedAndAreNotProcessSamples()
    {
        var metrics = New();
        metrics.Observe(TopicCatalog.Process.Name, Process("web-1", 10, "java", 0, 0, EventKinds.Event, "oom_kill"), 0);
        metrics.Observe(TopicCatalog.Process.Name, Process("web-1", 11, "java", 0, 0, EventKinds.Event, "oom_kill"), 0);
        metrics.Tick(0);

        var text = Scrape();
        Assert.Contains("ops_oom_kills_total{host=\"web-1\"} 2", text);
        Assert.DoesNotContain("ops_process_cpu_ratio{", text);
    }

    [Fact]
    public void AnAlertCountsOnceWhileFiringHoweverOftenItIsAnnouncedAndGoesWhenResolved()
    {
        var metrics = New();
        metrics.Observe(TopicCatalog.Alerts.Name, Alert("f1", AlertStatus.Firing), 0);
        metrics.Observe(TopicCatalog.Alerts.Name, Alert("f1", AlertStatus.Firing), 0);
        metrics.Observe(TopicCatalog.Alerts.Name, Alert("f2", AlertStatus.Firing, host: "web-1"), 0);
        Assert.Contains("ops_alerts_firing{alertname=\"error-logs\",severity=\"warning\",host=\"web-1\"} 2", Scrape());

        metrics.Observe(TopicCatalog.Alerts.Name, Alert("f1", AlertStatus.Resolved), 0);
        metrics.Tick(10 * 3_600_000);
        Assert.Contains("ops_alerts_firing{alertname=\"error-logs\",severity=\"warning\",host=\"web-1\"} 1", Scrape());

        metrics.Observe(TopicCatalog.Alerts.Name, Alert("f2", AlertStatus.Resolved), 0);
        Assert.DoesNotContain("ops_alerts_firing{", Scrape());
    }

    [Fact]
    public void PastTheSeriesLimitNewSeriesAreRefusedAndCounted()
    {
        var metrics = New(new ExporterConfig { MaxSeriesPerMetric = 3 });
        var refused = PipelineMetrics.ExporterSeriesRefused.WithLabels(EventMetrics.ProbeSuccess);
        var before = refused.Value;

        for (int i = 0; i < 5; i++) metrics.Observe(TopicCatalog.Probes.Name, Probe("web-1", $"probe-{i}", "ok", 1), 0);
        metrics.Observe(TopicCatalog.Probes.Name, Probe("web-1", "probe-0", "problem", 1), 0);

        var text = Scrape();
        Assert.Equal(3, text.Split('\n').Count(l => l.StartsWith("ops_probe_success{", StringComparison.Ordinal)));
        Assert.Contains("ops_probe_success{host=\"web-1\",probe=\"probe-0\"} 0", text);
        Assert.Equal(2, refused.Value - before);
    }

    [Fact]
    public void RecordsThatAreNotEventsAreIgnored()
    {
        var metrics = New();
        metrics.Observe(TopicCatalog.Logs.Name, "not json"u8, 0);
        metrics.Observe(TopicCatalog.Logs.Name, "[1,2]"u8, 0);
        metrics.Observe(TopicCatalog.Logs.Name, "{\"message\":\"no host\"}"u8, 0);
        metrics.Tick(0);

        Assert.Equal(0, metrics.SeriesCount);
    }
}
