using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Probes;

/// <summary><c>file</c>: the file exists and, with <c>max_age</c>, was modified recently (a heartbeat or backup marker). Value: age in seconds.</summary>
public sealed class FileProbe(ProbeConfig config) : IProbe
{
    private readonly TimeSpan? _maxAge = config.MaxAge.Length > 0 ? Duration.Parse(config.MaxAge) : null;

    public string Target { get; } = config.Target;

    public ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken) => new(Task.Run(Check, cancellationToken));

    private ProbeResult Check()
    {
        var info = new FileInfo(Target);
        if (!info.Exists && !Directory.Exists(Target)) return ProbeResult.Problem(ProbeReasons.Missing, $"{Target} does not exist");
        var modified = info.Exists ? info.LastWriteTimeUtc : Directory.GetLastWriteTimeUtc(Target);
        double age = Math.Round(Math.Max(0, (DateTime.UtcNow - modified).TotalSeconds), 3);
        if (_maxAge is { } max && age > max.TotalSeconds)
            return ProbeResult.Problem(ProbeReasons.Stale, $"{Target} was last modified {Ago(age)} ago, longer than {Duration.Format(max)}", age);
        return ProbeResult.Ok($"{Target} exists, modified {Ago(age)} ago", age);
    }

    /// <summary>Rounded the way people say it: "50s", "7m", "3h".</summary>
    private static string Ago(double seconds) => seconds switch
    {
        < 120 => Duration.Format(TimeSpan.FromSeconds(Math.Floor(seconds))),
        < 7200 => Duration.Format(TimeSpan.FromMinutes(Math.Floor(seconds / 60))),
        < 172_800 => Duration.Format(TimeSpan.FromHours(Math.Floor(seconds / 3600))),
        _ => Duration.Format(TimeSpan.FromDays(Math.Floor(seconds / 86_400))),
    };
}
