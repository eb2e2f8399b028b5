using System.Diagnostics;
using System.Runtime;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>What the diagnostics endpoint reports: cheap snapshots of the process and its runtime.</summary>
internal static class DebugSnapshots
{
    /// <summary>The OS threads of this process with their state and CPU time (from /proc/self/task).</summary>
    public static Dictionary<string, object> Threads()
    {
        var threads = new List<Dictionary<string, object>>();
        foreach (ProcessThread t in Process.GetCurrentProcess().Threads)
        {
            threads.Add(new Dictionary<string, object>
            {
                ["id"] = t.Id,
                ["state"] = t.ThreadState.ToString(),
                ["cpu_ms"] = SafeCpu(t),
            });
        }
        ThreadPool.GetAvailableThreads(out int workers, out int io);
        ThreadPool.GetMaxThreads(out int maxWorkers, out int maxIo);
        return new Dictionary<string, object>
        {
            ["count"] = threads.Count,
            ["threadpool_threads"] = ThreadPool.ThreadCount,
            ["threadpool_busy_workers"] = maxWorkers - workers,
            ["threadpool_busy_io"] = maxIo - io,
            ["threadpool_queue"] = ThreadPool.PendingWorkItemCount,
            ["threads"] = threads,
        };
    }

    public static Dictionary<string, object> Gc()
    {
        var info = GC.GetGCMemoryInfo();
        return new Dictionary<string, object>
        {
            ["heap_bytes"] = GC.GetTotalMemory(false),
            ["committed_bytes"] = info.TotalCommittedBytes,
            ["fragmented_bytes"] = info.FragmentedBytes,
            ["pause_time_percent"] = info.PauseTimePercentage,
            ["gen0_collections"] = GC.CollectionCount(0),
            ["gen1_collections"] = GC.CollectionCount(1),
            ["gen2_collections"] = GC.CollectionCount(2),
            ["total_pause_ms"] = GC.GetTotalPauseDuration().TotalMilliseconds,
            ["server_gc"] = GCSettings.IsServerGC,
        };
    }

    public static Dictionary<string, object> Runtime()
    {
        using var process = Process.GetCurrentProcess();
        return new Dictionary<string, object>
        {
            ["uptime_s"] = (DateTime.Now - process.StartTime).TotalSeconds,
            ["cpu_s"] = process.TotalProcessorTime.TotalSeconds,
            ["rss_bytes"] = process.WorkingSet64,
            ["threads"] = process.Threads.Count,
            ["exceptions"] = ExceptionCount(),
            ["allocated_bytes"] = GC.GetTotalAllocatedBytes(),
            ["lock_contentions"] = Monitor.LockContentionCount,
            ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        };
    }

    private static long _exceptions;
    private static int _subscribed;

    /// <summary>First-chance exceptions since the endpoint was first asked.</summary>
    private static long ExceptionCount()
    {
        if (Interlocked.Exchange(ref _subscribed, 1) == 0)
            AppDomain.CurrentDomain.FirstChanceException += (_, _) => Interlocked.Increment(ref _exceptions);
        return Interlocked.Read(ref _exceptions);
    }

    private static double SafeCpu(ProcessThread t)
    {
        try { return t.TotalProcessorTime.TotalMilliseconds; }
        catch (InvalidOperationException) { return 0; } // the thread ended meanwhile
    }
}
