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

    public static readonly Counter AlertDeliveries = Metrics.CreateCounter(
        "pipeline_alert_deliveries_total", "Alert deliveries to downstream targets, by target kind and outcome (delivered, retried, gave_up).",
        new CounterConfiguration { LabelNames = ["target", "outcome"] });

    public static readonly Gauge AlertsForwardedFiring = Metrics.CreateGauge(
        "pipeline_alert_forwarder_firing", "Alerts the forwarder holds as firing and re-sends to Alertmanager.");

    public static readonly Counter DebugRefusals = Metrics.CreateCounter(
        "pipeline_debug_refusals_total", "Diagnostics endpoint requests refused, by HTTP status (401, 403, 429).",
        new CounterConfiguration { LabelNames = ["status"] });

    public static readonly Gauge RuntimeThresholdExceeded = Metrics.CreateGauge(
        "pipeline_runtime_threshold_exceeded", "1 while a runtime health check is over its threshold, by check.",
        new GaugeConfiguration { LabelNames = ["check"] });

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

    public static readonly Counter BulkItems = Metrics.CreateCounter(
        "pipeline_sink_items_total", "Per-item outcomes of sink writes: created, duplicate, retried, rejected.",
        new CounterConfiguration { LabelNames = ["sink", "outcome"] });
}
