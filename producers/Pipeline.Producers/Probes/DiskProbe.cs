using System.Globalization;
using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Probes;

/// <summary><c>disk</c>: used % and inode % of a mount against <c>max_used_pct</c> and <c>max_inode_pct</c>. Publishes used % as the value.</summary>
public sealed class DiskProbe(ProbeConfig config) : IProbe
{
    private readonly double _maxUsed = config.MaxUsedPct;
    private readonly double _maxInodes = config.MaxInodePct;

    public string Target { get; } = config.Target.Length > 0 ? config.Target : "/";

    public ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken)
        // statvfs can block for minutes on a dead network mount: keep it off the caller so the timeout can abandon it.
        => new(Task.Run(Check, cancellationToken));

    private ProbeResult Check()
    {
        FileSystemStats stats;
        try
        {
            stats = FileSystemStats.Of(Target);
        }
        catch (IOException e)
        {
            return ProbeResult.Unknown(ProbeReasons.Unreadable, e.Message);
        }
        double used = Math.Round(stats.UsedPct, 2);
        double inodes = Math.Round(stats.InodePct, 2);
        var text = string.Create(CultureInfo.InvariantCulture, $"{Target}: {used:0.##}% used (max {_maxUsed:0.##}%), inodes {inodes:0.##}% used (max {_maxInodes:0.##}%)");
        if (used > _maxUsed || inodes > _maxInodes) return ProbeResult.Problem(ProbeReasons.Threshold, text, used);
        return ProbeResult.Ok(text, used);
    }
}
