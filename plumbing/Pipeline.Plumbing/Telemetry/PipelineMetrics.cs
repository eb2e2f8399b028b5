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

    /// <summary>Runs the static setup (and the .NET runtime gauges) before anything is scraped.</summary>
    public static void EnsureRegistered() => RuntimeMetrics.Register();

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

    public static readonly Counter StreamRestarts = Metrics.CreateCounter(
        "pipeline_processors_restarts_total", "Times the processors restarted their stream in-process, by reason (stalled: the stream thread stopped polling Kafka).",
        new CounterConfiguration { LabelNames = ["reason"] });

    public static readonly Counter LostRecords = Metrics.CreateCounter(
        "pipeline_records_lost_total", "Records a consumer skipped because the broker no longer had them (offset gap or reset), by stage and topic.",
        new CounterConfiguration { LabelNames = ["stage", "topic"] });

    public static readonly Counter LogLinesFlagged = Metrics.CreateCounter(
        "pipeline_log_lines_flagged_total", "Log lines shipped with a problem flag (truncated, invalid_utf8).",
        new CounterConfiguration { LabelNames = ["flag"] });

    public static readonly Gauge FilesTailed = Metrics.CreateGauge(
        "pipeline_log_files_open", "Files the log tailer has open.");

    public static readonly Counter ProcessRaces = Metrics.CreateCounter(
        "pipeline_process_races_total", "Processes that exited between listing /proc and reading their files; skipped, as they are gone.");

    public static readonly Counter ProcessDenied = Metrics.CreateCounter(
        "pipeline_process_denied_total", "Reads of /proc/PID files refused (another user's process, hidepid); the fields are left out, by file.",
        new CounterConfiguration { LabelNames = ["file"] });

    public static readonly Gauge ProcessesSeen = Metrics.CreateGauge(
        "pipeline_processes", "Processes visible in the last sample.");

    public static readonly Gauge ProcessSampleSeconds = Metrics.CreateGauge(
        "pipeline_process_sample_duration_seconds", "Time the last process sample took to read /proc.");

    public static readonly Counter OomKills = Metrics.CreateCounter(
        "pipeline_process_oom_kills_total", "OOM kills published, by the source that saw them first (kmsg, memory.events, vmstat).",
        new CounterConfiguration { LabelNames = ["source"] });

    public static readonly Gauge SpoolBytes = Metrics.CreateGauge(
        "pipeline_spool_bytes", "Bytes held in an on-disk spool while Kafka is unreachable, by spool.",
        new GaugeConfiguration { LabelNames = ["spool"] });

    public static readonly Counter SpoolDropped = Metrics.CreateCounter(
        "pipeline_spool_dropped_total", "Records dropped from a full spool, by spool and kind (sample, event, oom).",
        new CounterConfiguration { LabelNames = ["spool", "kind"] });
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

    public static readonly Counter BulkRetries = Metrics.CreateCounter(
        "pipeline_sink_retries_total", "Write attempts that left records to retry (each is followed by a backoff), by sink.",
        new CounterConfiguration { LabelNames = ["sink"] });

    public static readonly Histogram BulkDuration = Metrics.CreateHistogram(
        "pipeline_sink_bulk_duration_seconds", "Time one write to the sink's backend took (one Elasticsearch bulk request, or one file append), by sink.",
        new HistogramConfiguration { LabelNames = ["sink"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) });

    public static readonly Gauge SinkBufferedBytes = Metrics.CreateGauge(
        "pipeline_sink_spool_bytes", "Bytes of records the sink holds in memory: the batch being filled and the batches in flight. Bounded by (sinks.in_flight + 1) * sinks.max_bytes.",
        new GaugeConfiguration { LabelNames = ["sink"] });

    public static readonly Gauge BatchesInFlight = Metrics.CreateGauge(
        "pipeline_sink_batches_in_flight", "Batches handed to the backend and not yet written or dead-lettered, by sink.",
        new GaugeConfiguration { LabelNames = ["sink"] });

    public static readonly Gauge ConsumerLag = Metrics.CreateGauge(
        "pipeline_consumer_lag", "Records in a partition the stage has not consumed yet (high watermark minus position), by stage, topic and partition.",
        new GaugeConfiguration { LabelNames = ["stage", "topic", "partition"] });

    public static readonly Counter ExporterSeriesRefused = Metrics.CreateCounter(
        "pipeline_exporter_series_refused_total", "Updates the exporter refused because the metric already had exporter.max_series_per_metric series, by metric.",
        new CounterConfiguration { LabelNames = ["metric"] });

    public static readonly Gauge ExporterSeries = Metrics.CreateGauge(
        "pipeline_exporter_series", "Series the exporter currently serves, by metric.",
        new GaugeConfiguration { LabelNames = ["metric"] });

    public static readonly Counter HttpRequests = Metrics.CreateCounter(
        "http_requests_total", "HTTP requests to the metrics endpoint, by method and status code.",
        new CounterConfiguration { LabelNames = ["method", "status_code"] });
}
