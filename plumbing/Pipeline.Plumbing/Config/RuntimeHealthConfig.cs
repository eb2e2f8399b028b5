namespace Pipeline.Plumbing.Config;

/// <summary>
/// <c>[runtime_health]</c>: limits on the process's own .NET runtime. Crossing one logs a warning, sets
/// <c>pipeline_runtime_threshold_exceeded{check}</c> and publishes an alert (<c>alert.source=self</c>).
/// The defaults are well above what a healthy agent shows, so they only speak when something is wrong.
/// </summary>
public sealed class RuntimeHealthConfig
{
    public bool Enabled { get; set; } = true;

    /// <summary>How often the runtime is checked. Default 5s.</summary>
    public string Interval { get; set; } = "5s";

    /// <summary>Work items waiting for a thread-pool thread. Default 1000 (a starved pool delays everything).</summary>
    public long ThreadpoolQueueMax { get; set; } = 1000;

    /// <summary>OS threads in the process. Default 400.</summary>
    public long ThreadCountMax { get; set; } = 400;

    /// <summary>Share of time spent paused in GC since start, percent. Default 20.</summary>
    public double GcPausePercentMax { get; set; } = 20;

    /// <summary>Managed heap size in bytes. Default 1 GiB.</summary>
    public long HeapBytesMax { get; set; } = 1L << 30;

    /// <summary>Exceptions thrown per second. Default 100.</summary>
    public double ExceptionsPerSecondMax { get; set; } = 100;
}
