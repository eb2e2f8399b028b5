using Prometheus;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// .NET runtime metrics that prometheus-net's built-in set lacks (it has GC collection counts and total memory): heap
/// size per generation, GC pause time, allocations, the thread pool's queue and threads, and exceptions thrown. They are
/// read from the runtime just before each scrape, so they cost nothing between scrapes.
/// </summary>
internal static class RuntimeMetrics
{
    private static readonly string[] Generations = ["gen0", "gen1", "gen2", "loh", "poh"];

    private static readonly Gauge HeapSize = Metrics.CreateGauge(
        "dotnet_gc_heap_size_bytes", "Size of each GC heap generation after the last collection.",
        new GaugeConfiguration { LabelNames = ["generation"] });

    private static readonly Counter PauseSeconds = Metrics.CreateCounter(
        "dotnet_gc_pause_seconds_total", "Time the runtime was paused for garbage collection since the process started.");

    private static readonly Counter AllocatedBytes = Metrics.CreateCounter(
        "dotnet_gc_allocated_bytes_total", "Bytes allocated on the managed heap since the process started.");

    private static readonly Gauge ThreadPoolQueue = Metrics.CreateGauge(
        "dotnet_threadpool_queue_length", "Work items queued to the thread pool and not started yet.");

    private static readonly Gauge ThreadPoolThreads = Metrics.CreateGauge(
        "dotnet_threadpool_threads", "Threads in the thread pool.");

    private static readonly Counter ThreadPoolCompleted = Metrics.CreateCounter(
        "dotnet_threadpool_completed_items_total", "Work items the thread pool has completed.");

    private static readonly Counter Exceptions = Metrics.CreateCounter(
        "dotnet_exceptions_total", "Exceptions thrown (first chance, caught or not), as the runtime's own exception counter counts them.");

    private static int _registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        AppDomain.CurrentDomain.FirstChanceException += (_, _) => Exceptions.Inc();
        Metrics.DefaultRegistry.AddBeforeCollectCallback(Collect);
    }

    private static void Collect()
    {
        var info = GC.GetGCMemoryInfo();
        var generations = info.GenerationInfo;
        for (int i = 0; i < Generations.Length && i < generations.Length; i++)
        {
            HeapSize.WithLabels(Generations[i]).Set(generations[i].SizeAfterBytes);
        }
        PauseSeconds.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
        AllocatedBytes.IncTo(GC.GetTotalAllocatedBytes());
        ThreadPoolQueue.Set(ThreadPool.PendingWorkItemCount);
        ThreadPoolThreads.Set(ThreadPool.ThreadCount);
        ThreadPoolCompleted.IncTo(ThreadPool.CompletedWorkItemCount);
    }
}
