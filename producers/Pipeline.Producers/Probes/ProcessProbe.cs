using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Expressions;

namespace Pipeline.Producers.Probes;

/// <summary>
/// <c>process</c>: at least <c>min_count</c> processes match the filter in <c>target</c>, written in the
/// shared expression language (<c>name == "sshd"</c>, <c>cmdline contains "kubelet"</c>). Value: the count.
/// </summary>
public sealed class ProcessProbe(ProbeConfig config) : IProbe
{
    private readonly Expression _filter = Expression.Parse(config.Target);
    private readonly int _min = config.MinCount;
    private readonly ProcEntry _entry = new(); // runs of one probe never overlap, so one buffer serves them all

    public string Target { get; } = config.Target;

    public ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken) => new(Task.Run(() => Check(cancellationToken), cancellationToken));

    private ProbeResult Check(CancellationToken cancellationToken)
    {
        int count = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = dir.AsSpan(6);
            if (!int.TryParse(name, out int pid) || !_entry.Load(pid)) continue;
            if (_filter.Matches(_entry)) count++;
        }
        var text = $"{count} process(es) match {Target} (at least {_min} expected)";
        return count >= _min ? ProbeResult.Ok(text, count) : ProbeResult.Problem(ProbeReasons.TooFew, text, count);
    }
}
