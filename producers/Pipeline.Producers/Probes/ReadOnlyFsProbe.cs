using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Probes;

/// <summary><c>readonly_fs</c>: the mount went read-only (the kernel remounts ext4 read-only on I/O errors).</summary>
public sealed class ReadOnlyFsProbe(ProbeConfig config) : IProbe
{
    public string Target { get; } = config.Target.Length > 0 ? config.Target : "/";

    public ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken) => new(Task.Run(Check, cancellationToken));

    private ProbeResult Check()
    {
        try
        {
            return FileSystemStats.Of(Target).ReadOnly
                ? ProbeResult.Problem(ProbeReasons.ReadOnly, $"{Target} is mounted read-only", 1)
                : ProbeResult.Ok($"{Target} is writable", 0);
        }
        catch (IOException e)
        {
            return ProbeResult.Unknown(ProbeReasons.Unreadable, e.Message);
        }
    }
}
