using Pipeline.Testing;
using Pipeline.Plumbing.Config;

namespace Pipeline.Tests.Deploy;

/// <summary>A pipeline stage as compose runs it: its service, the config file mounted for it (as the repository names it), and that config loaded.</summary>
internal sealed record DeployedStage(ComposeService Service, string ConfigFile, PipelineConfig Config)
{
    /// <summary>The port of <c>metrics.listen</c>, or null when metrics are off or the value is not host:port.</summary>
    public int? MetricsPort => DeploymentChecks.TrySplitHostPort(Config.Metrics.Listen, out _, out int port) ? port : null;
}
