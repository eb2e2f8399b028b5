using Pipeline.Producers.Probes;

namespace Pipeline.Tests.Producers.Probes;

/// <summary>A probe whose behaviour a test dictates: results in order, a delay, or a hang that ignores cancellation.</summary>
internal sealed class ScriptedProbe(Func<int, CancellationToken, Task<ProbeResult>> run) : IProbe
{
    private int _started;
    private int _running;
    private int _maxRunning;

    public string Target => "scripted";
    public int Started => Volatile.Read(ref _started);
    public int MaxRunning => Volatile.Read(ref _maxRunning);

    public static ScriptedProbe Sequence(params ProbeStatus[] statuses)
        => new((i, _) => Task.FromResult(new ProbeResult(statuses[Math.Min(i, statuses.Length - 1)], "scripted", $"run {i}")));

    /// <summary>Never finishes and never looks at its token, like statvfs on a dead NFS server.</summary>
    public static ScriptedProbe Hung() => new((_, _) => new TaskCompletionSource<ProbeResult>().Task);

    public async ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken)
    {
        int i = Interlocked.Increment(ref _started) - 1;
        int running = Interlocked.Increment(ref _running);
        int max;
        while ((max = Volatile.Read(ref _maxRunning)) < running && Interlocked.CompareExchange(ref _maxRunning, running, max) != max) { }
        try
        {
            return await run(i, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}
