namespace Pipeline.Plumbing.Config;

/// <summary>
/// <c>[exporter]</c>: the sinks' Prometheus exporter, which turns events into <c>ops_*</c> series on the process's
/// <c>/metrics</c> (so it needs <c>metrics.listen</c>). It reads the event and alert topics in its own consumer group.
/// </summary>
/// <remarks>
/// Which processes get <c>ops_process_cpu_ratio</c> and <c>ops_process_resident_memory_bytes</c>: on every host, the
/// <c>process_top_n</c> processes with the highest CPU in their latest sample, plus every process whose latest sample
/// matches <c>process_filter</c>. A process that leaves the selection loses its series at once; one that stops being
/// sampled (it exited) loses them after <c>staleness</c>.
/// </remarks>
public sealed class ExporterConfig
{
    /// <summary>Run the exporter in <c>pipeline sink</c> and <c>pipeline run</c> (only when <c>metrics.listen</c> is set). Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Kafka consumer group of the exporter; it starts at the newest events (alerts are replayed from the start). Default <c>pipeline-exporter</c>.</summary>
    public string GroupId { get; set; } = "pipeline-exporter";

    /// <summary>A gauge series (process, probe, node condition) not updated for this long is removed. Default 5m.</summary>
    public string Staleness { get; set; } = "5m";

    /// <summary>A counter series (log lines, OOM kills) not incremented for this long is removed. Default 1h.</summary>
    public string CounterStaleness { get; set; } = "1h";

    /// <summary>Most series per <c>ops_*</c> metric; updates that would create more are refused and counted in <c>pipeline_exporter_series_refused_total</c>. Default 10000.</summary>
    public int MaxSeriesPerMetric { get; set; } = 10_000;

    /// <summary>Processes per host exported by CPU rank. 0 exports only those <c>process_filter</c> selects. Default 10.</summary>
    public int ProcessTopN { get; set; } = 10;

    /// <summary>
    /// A <c>where</c> expression over process events; matching processes are exported whatever their rank, e.g.
    /// <c>process.name in ["nginx", "postgres"]</c>. Default empty: none beyond the top N.
    /// </summary>
    public string ProcessFilter { get; set; } = "";
}
