namespace Pipeline.Producers.Probes;

/// <summary>
/// One health check. A run should honour <paramref name="cancellationToken"/> (it fires at the probe's
/// timeout), but the runner never relies on it: a run that ignores it is abandoned at the timeout.
/// </summary>
public interface IProbe
{
    /// <summary>What the probe checks, as shown in <c>probe.target</c>.</summary>
    string Target { get; }

    ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken);
}
