using Pipeline.Plumbing.Config;
using Pipeline.Producers.Probes;

namespace Pipeline.Tests.Producers.Probes;

/// <summary>
/// Builds a probe from the config a user would write and runs it once, the way the scheduler does. The
/// timeout is generous (30 s) because test machines are shared and busy; tests of the timeout set their own.
/// </summary>
internal static class Probes
{
    public static ProbeConfig Config(string type, string target = "", Action<ProbeConfig>? configure = null)
    {
        var config = new ProbeConfig { Name = $"test-{type}", Type = type, Target = target, Timeout = "30s", Interval = "1s" };
        configure?.Invoke(config);
        return config;
    }

    public static ScheduledProbe Scheduled(ProbeConfig config) => new(config, ProbeFactory.Create(config));

    public static async Task<ProbeReport> RunOnceAsync(ProbeConfig config)
    {
        var probe = Scheduled(config);
        try
        {
            return await ProbeRunner.RunAsync(probe, TestContext.Current.CancellationToken);
        }
        finally
        {
            (probe.Probe as IDisposable)?.Dispose();
        }
    }

    public static async Task<ProbeResult> RunAsync(string type, string target = "", Action<ProbeConfig>? configure = null)
        => (await RunOnceAsync(Config(type, target, configure))).Result;
}
