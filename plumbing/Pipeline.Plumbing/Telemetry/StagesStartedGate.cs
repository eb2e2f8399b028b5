using Microsoft.Extensions.Hosting;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// Registered last, it holds the host's start until every given stage's loop has turned once (for the
/// log tailer: inputs discovered and opened). The host signals "started" only after every StartAsync
/// returned, and that is when systemd's <c>Type=notify</c> gets <c>READY=1</c>: so "ready" means the
/// inputs run, not merely that the process is up. A stage that fails first stops the host, which
/// cancels the wait.
/// </summary>
public sealed class StagesStartedGate(IReadOnlyCollection<string> stages) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => StageProgress.WaitUntilStartedAsync(stages, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
