using Prometheus;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// The pipeline's own metrics, in one place so their names and labels stay consistent. Labels are
/// bounded: stage and topic names, rule names and fixed reasons, never free text or ids.
/// </summary>
public static class PipelineMetrics
{
    static PipelineMetrics()
    {
        // Keep the process and .NET runtime metrics; drop the EventCounter and Meter adapters, whose
        // generated names break Prometheus naming rules (promtool flags "_total" on non-counters).
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions
        {
            SuppressProcessMetrics = false,
            SuppressDebugMetrics = false,
            SuppressEventCounters = true,
            SuppressMeters = true,
        });
    }

    /// <summary>Runs the static setup before anything is scraped.</summary>
    public static void EnsureRegistered() { }

    public static readonly Counter EventsIn = Metrics.CreateCounter(
        "pipeline_events_in_total", "Records a stage read, by stage and topic (or input).",
        new CounterConfiguration { LabelNames = ["stage", "topic"] });

    public static readonly Counter EventsOut = Metrics.CreateCounter(
        "pipeline_events_out_total", "Records a stage delivered (acknowledged by Kafka or the backend), by stage and topic.",
        new CounterConfiguration { LabelNames = ["stage", "topic"] });

    public static readonly Counter DeadLetters = Metrics.CreateCounter(
        "pipeline_deadletters_total", "Records sent to ops.deadletter.v1, by stage and reason.",
        new CounterConfiguration { LabelNames = ["stage", "reason"] });

    public static readonly Counter Alerts = Metrics.CreateCounter(
        "pipeline_alerts_total", "Alert state changes emitted, by rule and status.",
        new CounterConfiguration { LabelNames = ["rule", "status"] });

    public static readonly Gauge AlertsFiring = Metrics.CreateGauge(
        "pipeline_alerts_firing", "Alert groups currently firing, by rule.",
        new GaugeConfiguration { LabelNames = ["rule"] });

    public static readonly Counter LateEvents = Metrics.CreateCounter(
        "pipeline_late_events_total", "Events that arrived after their window was final (later than the grace period) and were dropped, by rule.",
        new CounterConfiguration { LabelNames = ["rule"] });

    public static readonly Counter FilterDrops = Metrics.CreateCounter(
        "pipeline_filter_dropped_total", "Events a filter dropped, by stage and filter.",
        new CounterConfiguration { LabelNames = ["stage", "filter"] });

    public static readonly Counter FilterErrors = Metrics.CreateCounter(
        "pipeline_filter_errors_total", "Events a filter threw on (sent on unfiltered or dead-lettered), by stage and filter.",
        new CounterConfiguration { LabelNames = ["stage", "filter"] });

    public static readonly Counter DeliveryErrors = Metrics.CreateCounter(
        "pipeline_delivery_errors_total", "Failed deliveries that will be retried, by stage and destination.",
        new CounterConfiguration { LabelNames = ["stage", "destination"] });

    public static readonly Counter LostRecords = Metrics.CreateCounter(
        "pipeline_records_lost_total", "Records a consumer skipped because the broker no longer had them (offset gap or reset), by stage and topic.",
        new CounterConfiguration { LabelNames = ["stage", "topic"] });

    public static readonly Counter LogLinesFlagged = Metrics.CreateCounter(
        "pipeline_log_lines_flagged_total", "Log lines shipped with a problem flag (truncated, invalid_utf8).",
        new CounterConfiguration { LabelNames = ["flag"] });

    public static readonly Gauge FilesTailed = Metrics.CreateGauge(
        "pipeline_log_files_open", "Files the log tailer has open.");

    public static readonly Counter ProbeRuns = Metrics.CreateCounter(
        "pipeline_probe_runs_total", "Probe runs, by probe and status (ok, problem, unknown).",
        new CounterConfiguration { LabelNames = ["probe", "status"] });

    public static readonly Histogram ProbeDuration = Metrics.CreateHistogram(
        "pipeline_probe_duration_seconds", "How long probe runs took, by probe (a timed-out run counts its timeout).",
        new HistogramConfiguration { LabelNames = ["probe"], Buckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    public static readonly Histogram ProbeScheduleLag = Metrics.CreateHistogram(
        "pipeline_probe_schedule_lag_seconds", "How much later than due a probe run started (timer slack plus waiting for a concurrency slot).",
        new HistogramConfiguration { Buckets = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5] });

    public static readonly Gauge ProbeConditions = Metrics.CreateGauge(
        "pipeline_probe_condition", "A probe's condition after flap suppression: 1 True (problem), 0 False, -1 Unknown.",
        new GaugeConfiguration { LabelNames = ["probe", "condition"] });

    public static readonly Counter NodeConditionPatches = Metrics.CreateCounter(
        "pipeline_node_condition_patches_total", "PATCHes of this node's conditions to the Kubernetes API, by outcome (ok, error).",
        new CounterConfiguration { LabelNames = ["outcome"] });

    public static readonly Counter BulkItems = Metrics.CreateCounter(
        "pipeline_sink_items_total", "Per-item outcomes of sink writes: created, duplicate, retried, rejected.",
        new CounterConfiguration { LabelNames = ["sink", "outcome"] });
}
