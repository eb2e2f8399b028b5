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

    public static readonly Gauge LogInFlightBytes = Metrics.CreateGauge(
        "pipeline_log_in_flight_bytes", "Bytes of log events sent to Kafka and not yet acknowledged; reading pauses at logs.max_in_flight_bytes.");

    public static readonly Counter ConfigReloads = Metrics.CreateCounter(
        "pipeline_config_reloads_total", "Config reloads (config file changed, or SIGHUP), by result: success, or failure (the previous config kept running).",
        new CounterConfiguration { LabelNames = ["result"] });

    public static readonly Gauge ConfigLastReloadSuccessful = Metrics.CreateGauge(
        "pipeline_config_last_reload_successful", "1 when the last config reload was applied, 0 when it was rejected.");

    public static readonly Gauge ConfigLastReloadTime = Metrics.CreateGauge(
        "pipeline_config_last_reload_timestamp_seconds", "Unix time of the last config reload attempt.");

    // The one metric with free text in a label: the issue asks for the last error in /metrics. There is
    // only ever one series (the previous one is removed), so it cannot grow.
    public static readonly Gauge ConfigLastReloadError = Metrics.CreateGauge(
        "pipeline_config_last_reload_error_info", "The error of the last rejected config reload (value 1), absent after a successful one.",
        new GaugeConfiguration { LabelNames = ["error"] });

    public static readonly Counter BulkItems = Metrics.CreateCounter(
        "pipeline_sink_items_total", "Per-item outcomes of sink writes: created, duplicate, retried, rejected.",
        new CounterConfiguration { LabelNames = ["sink", "outcome"] });
}
