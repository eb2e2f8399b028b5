using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Testing;

namespace Pipeline.Tests.Plumbing.Config;

/// <summary>The config file watched: a change is applied, a broken file is refused with its location, and both are counted.</summary>
[Collection(Name)]
public class ConfigReloaderTests : IDisposable
{
    // The reload metrics are process-wide: these tests must not interleave.
    public const string Name = "config reload metrics";
    private readonly TempDirectory _dir = new("pipeline-reload");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task AChangedFileIsAppliedAndABrokenOneIsRefusedWithItsLocationWhileTheOldStays()
    {
        var path = _dir.File("agent.toml");
        File.WriteAllText(path, "host_name = \"one\"\n");
        var target = new RecordingTarget();
        using var reloader = new ConfigReloader(path, [target], NullLogger<ConfigReloader>.Instance);
        await reloader.StartAsync(TestContext.Current.CancellationToken);
        double successes = PipelineMetrics.ConfigReloads.WithLabels("success").Value;
        double failures = PipelineMetrics.ConfigReloads.WithLabels("failure").Value;

        File.WriteAllText(path, "host_name = \"two\"\n");
        await Eventually.True(() => target.Applied.Count == 1, TimeSpan.FromSeconds(10), "the change applied");
        Assert.Equal("two", target.Applied[0].Config.HostName);
        Assert.Equal(successes + 1, PipelineMetrics.ConfigReloads.WithLabels("success").Value);
        Assert.Equal(1, PipelineMetrics.ConfigLastReloadSuccessful.Value);

        File.WriteAllText(path, "host_name = \"three\"\n[kafka]\nbootstrp = \"x:1\"\n");
        await Eventually.True(() => PipelineMetrics.ConfigReloads.WithLabels("failure").Value == failures + 1, TimeSpan.FromSeconds(10), "the broken file refused");
        Assert.Single(target.Applied);
        Assert.Equal(0, PipelineMetrics.ConfigLastReloadSuccessful.Value);
        var error = Assert.Single(PipelineMetrics.ConfigLastReloadError.GetAllLabelValues())[0];
        Assert.StartsWith($"{path}:3:1: unknown key 'bootstrp'", error);

        // SIGHUP does the same as a change, even when the file did not change.
        File.WriteAllText(path, "host_name = \"four\"\n");
        await Eventually.True(() => target.Applied.Count == 2, TimeSpan.FromSeconds(10), "the fixed file applied");
        Assert.True(reloader.Reload("SIGHUP"));
        Assert.Equal(3, target.Applied.Count);
        Assert.Empty(PipelineMetrics.ConfigLastReloadError.GetAllLabelValues());
        Assert.Equal(1, PipelineMetrics.ConfigLastReloadSuccessful.Value);
        await reloader.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AComponentThatRefusesTheConfigMakesTheReloadFail()
    {
        var path = _dir.File("agent.toml");
        File.WriteAllText(path, "");
        var target = new RecordingTarget { Refuse = "plugin cannot load" };
        using var reloader = new ConfigReloader(path, [target], NullLogger<ConfigReloader>.Instance);
        Assert.False(reloader.Reload("test"));
        Assert.Contains("plugin cannot load", Assert.Single(PipelineMetrics.ConfigLastReloadError.GetAllLabelValues())[0]);
        Assert.False(new ConfigReloader(null, [target], NullLogger<ConfigReloader>.Instance).Reload("SIGHUP"));
        await Task.CompletedTask;
    }

    [Fact]
    public void AConfigOneComponentRefusesReachesNoneOfThem()
    {
        var path = _dir.File("agent.toml");
        File.WriteAllText(path, "host_name = \"next\"\n");
        // The first accepts, the second refuses: the first must not be left running a config the second never took.
        var accepting = new RecordingTarget();
        var refusing = new RecordingTarget { Refuse = "chain cannot be built" };
        using var reloader = new ConfigReloader(path, [accepting, refusing], NullLogger<ConfigReloader>.Instance);
        Assert.False(reloader.Reload("SIGHUP"));
        Assert.Empty(accepting.Applied);
        Assert.Contains("chain cannot be built", Assert.Single(PipelineMetrics.ConfigLastReloadError.GetAllLabelValues())[0]);
    }

    private sealed class RecordingTarget : IConfigReloadable
    {
        public List<LoadedConfig> Applied { get; } = [];
        public string? Refuse { get; init; }

        public Action Prepare(LoadedConfig config)
        {
            if (Refuse is not null) throw new InvalidOperationException(Refuse);
            return () =>
            {
                lock (Applied) Applied.Add(config);
            };
        }
    }
}
