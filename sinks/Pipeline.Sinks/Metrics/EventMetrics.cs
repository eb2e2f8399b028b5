using System.Text.Json;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Expressions;
using Pipeline.Schemas.Topics;
using Prometheus;

namespace Pipeline.Sinks.Metrics;

/// <summary>
/// What events turn into on <c>/metrics</c>. Fed one record at a time by <see cref="EventMetricsExporter"/> (or a test),
/// with the time passed in, and <see cref="Tick"/>ed about once a second to publish the process selection and remove
/// stale series. Used from one thread; prometheus-net makes the values safe to scrape meanwhile.
/// </summary>
public sealed class EventMetrics
{
    public const string ProcessCpu = "ops_process_cpu_ratio";
    public const string ProcessMemory = "ops_process_resident_memory_bytes";
    public const string OomKills = "ops_oom_kills_total";
    public const string LogLines = "ops_log_lines_total";
    public const string ProbeSuccess = "ops_probe_success";
    public const string ProbeDuration = "ops_probe_duration_seconds";
    public const string NodeCondition = "ops_node_condition";
    public const string AlertsFiring = "ops_alerts_firing";

    /// <summary>Every metric name the exporter serves.</summary>
    public static readonly IReadOnlyList<string> Names = [ProcessCpu, ProcessMemory, OomKills, LogLines, ProbeSuccess, ProbeDuration, NodeCondition, AlertsFiring];

    private readonly EventFields _fields = new(new LabelInterner());
    private readonly Expression? _processFilter;
    private readonly ProcessSelection _processes;
    private readonly SeriesTable<Gauge.Child> _cpu, _memory, _probeSuccess, _probeDuration, _nodeCondition, _alerts;
    private readonly SeriesTable<Counter.Child> _oomKills, _logLines;
    private readonly FiringAlerts _firing;

    /// <param name="factory">Where the metrics are registered: the default registry in the pipeline, a private one in tests and benchmarks.</param>
    public EventMetrics(ExporterConfig config, IMetricFactory factory)
    {
        long staleness = (long)Duration.Parse(config.Staleness).TotalMilliseconds;
        long counterStaleness = (long)Duration.Parse(config.CounterStaleness).TotalMilliseconds;
        int max = config.MaxSeriesPerMetric;
        _processFilter = config.ProcessFilter.Length > 0 ? Expression.Parse(config.ProcessFilter) : null;
        _processes = new ProcessSelection(config.ProcessTopN, staleness);

        string[] process = ["host", "process", "pid"];
        _cpu = new(factory.CreateGauge(ProcessCpu, "Share of the host's total CPU a process used in its latest sample (process.cpu.total_pct / 100); only processes exporter.process_top_n or exporter.process_filter select.",
            new GaugeConfiguration { LabelNames = process }), 3, max, 0);
        _memory = new(factory.CreateGauge(ProcessMemory, "Resident memory of a process in its latest sample (process.memory.rss); the same processes as ops_process_cpu_ratio.",
            new GaugeConfiguration { LabelNames = process }), 3, max, 0);
        _oomKills = new(factory.CreateCounter(OomKills, "Processes the kernel's OOM killer ended, by host (process events with event.action=oom_kill).",
            new CounterConfiguration { LabelNames = ["host"] }), 1, max, counterStaleness);
        _logLines = new(factory.CreateCounter(LogLines, "Log lines read, by host, level (log.level, or unknown) and service (labels.service, or the log file's name up to its first dot).",
            new CounterConfiguration { LabelNames = ["host", "level", "service"] }), 3, max, counterStaleness);
        _probeSuccess = new(factory.CreateGauge(ProbeSuccess, "1 when a probe's latest run was ok, 0 when it found a problem or could not tell, by host and probe.",
            new GaugeConfiguration { LabelNames = ["host", "probe"] }), 2, max, staleness);
        _probeDuration = new(factory.CreateGauge(ProbeDuration, "How long a probe's latest run took, by host and probe.",
            new GaugeConfiguration { LabelNames = ["host", "probe"] }), 2, max, staleness);
        _nodeCondition = new(factory.CreateGauge(NodeCondition, "1 while a node condition (e.g. DiskPressure) holds on a host, 0 when its probe last found it clear.",
            new GaugeConfiguration { LabelNames = ["host", "condition"] }), 2, max, staleness);
        _alerts = new(factory.CreateGauge(AlertsFiring, "Alert groups firing, by rule (alertname), severity and host.",
            new GaugeConfiguration { LabelNames = ["alertname", "severity", "host"] }), 3, max, 0);
        _firing = new FiringAlerts(_alerts);
    }

    /// <summary>Turns one record of <paramref name="topic"/> into series updates. Records that are not events are ignored.</summary>
    public void Observe(string topic, ReadOnlySpan<byte> value, long nowMs)
    {
        if (!_fields.Read(value) || _fields.Host is not { } host) return;
        var f = _fields;
        if (topic == TopicCatalog.Logs.Name)
        {
            _logLines.Touch(new SeriesKey(host, f.Level ?? "unknown", f.Service ?? f.FileService ?? "unknown"), nowMs)?.Inc();
        }
        else if (topic == TopicCatalog.Process.Name)
        {
            if (f.IsOomKill) _oomKills.Touch(new SeriesKey(host), nowMs)?.Inc();
            else if (f.IsMetric && f.Pid >= 0 && f.ProcessName is { } name && !double.IsNaN(f.CpuTotalPct))
                _processes.Observe(host, f.Pid, name, f.CpuTotalPct / 100, double.IsNaN(f.Rss) ? 0 : f.Rss, MatchesFilter(value), nowMs);
        }
        else if (topic == TopicCatalog.Probes.Name)
        {
            if (f.ProbeName is not { } probe) return;
            var key = new SeriesKey(host, probe);
            _probeSuccess.Touch(key, nowMs)?.Set(f.ProbeStatus == "ok" ? 1 : 0);
            if (!double.IsNaN(f.DurationMs)) _probeDuration.Touch(key, nowMs)?.Set(f.DurationMs / 1000);
            // "unknown" says nothing about the condition: leave it as it was (it goes stale if it stays unknown).
            if (f.Condition is { } condition && f.ProbeStatus is "ok" or "problem")
                _nodeCondition.Touch(new SeriesKey(host, condition), nowMs)?.Set(f.ProbeStatus == "problem" ? 1 : 0);
        }
        else if (topic == TopicCatalog.Alerts.Name)
        {
            if (f.Fingerprint is not { } fingerprint || f.AlertName is not { } rule) return;
            if (f.AlertStatus == "firing") _firing.Firing(fingerprint, new SeriesKey(rule, f.Severity ?? "", f.GroupHost ?? host), nowMs);
            else if (f.AlertStatus == "resolved") _firing.Resolved(fingerprint);
        }
    }

    /// <summary>Publishes the process selection and removes stale series. Call about once a second.</summary>
    public void Tick(long nowMs)
    {
        _processes.Publish(_cpu, _memory, nowMs);
        _oomKills.Sweep(nowMs);
        _logLines.Sweep(nowMs);
        _probeSuccess.Sweep(nowMs);
        _probeDuration.Sweep(nowMs);
        _nodeCondition.Sweep(nowMs);
    }

    /// <summary>Series served right now, over every metric.</summary>
    public int SeriesCount => _cpu.Count + _memory.Count + _oomKills.Count + _logLines.Count + _probeSuccess.Count + _probeDuration.Count + _nodeCondition.Count + _alerts.Count;

    // Only with a filter configured is a process event parsed into a document, so the filter can see any field.
    private bool MatchesFilter(ReadOnlySpan<byte> value)
    {
        if (_processFilter is null) return false;
        var reader = new Utf8JsonReader(value);
        using var document = JsonDocument.ParseValue(ref reader);
        return _processFilter.Matches(new JsonFieldSource(document.RootElement));
    }
}
