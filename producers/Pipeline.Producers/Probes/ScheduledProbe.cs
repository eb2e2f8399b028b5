using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Probes;

/// <summary>A configured probe ready to run: its check, its parsed timings and its condition's state.</summary>
public sealed class ScheduledProbe
{
    public ScheduledProbe(ProbeConfig config, IProbe probe)
    {
        Config = config;
        Probe = probe;
        Interval = Duration.Parse(config.Interval);
        Timeout = Duration.Parse(config.Timeout);
        Condition = new ConditionTracker(config.FailureThreshold, config.SuccessThreshold);
        Severity = config.Severity switch { "info" => 1, "critical" => 3, _ => 2 };
    }

    public ProbeConfig Config { get; }
    public IProbe Probe { get; }
    public string Name => Config.Name;
    public TimeSpan Interval { get; }
    public TimeSpan Timeout { get; }
    public ConditionTracker Condition { get; }

    /// <summary><c>event.severity</c> for problems: 1 info, 2 warning, 3 critical.</summary>
    public int Severity { get; }

    /// <summary>A run that outlived its timeout and is still going; the probe is not started again until it ends.</summary>
    internal Task<ProbeResult>? Abandoned { get; set; }
}
