using Pipeline.Testing;

namespace Pipeline.EndToEnd.Tests;

/// <summary>An older agent that finds state written by a newer one stops with a clear message; the doctor says the same.</summary>
public class AgentUpgradeTests
{
    [Fact]
    public async Task AnAgentRefusesARegistryOfANewerFormatAndTheDoctorNamesIt()
    {
        using var dir = new TempDirectory("pipeline-upgrade");
        Directory.CreateDirectory(dir.File("logs"));
        Directory.CreateDirectory(dir.File("data"));
        File.WriteAllText(dir.File("logs/app.log"), "a line that must not be shipped from offset 0\n");
        const string Newer = """{"format": "pipeline-registry", "version": 9, "entries": []}""";
        File.WriteAllText(dir.File("data/registry"), Newer);
        File.WriteAllText(dir.File("c.toml"), $"""
            data_dir = "{dir.File("data")}"
            [metrics]
            listen = ""
            [[logs.inputs]]
            paths = ["{dir.File("logs")}/*.log"]
            start_at = "beginning"
            """);
        await using var broker = PipelineProcess.Start("broker", "--config", dir.File("c.toml"));
        await broker.WaitForLineAsync(l => l.StartsWith("embedded Kafka broker at", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        var agent = await PipelineProcess.RunAsync("agent", "--config", dir.File("c.toml"), "--once");

        Assert.True(agent.ExitCode != 0, agent.ToString());
        Assert.Contains("format version 9, written by a newer pipeline", agent.Stderr + agent.Stdout, StringComparison.Ordinal);
        Assert.Equal(Newer, File.ReadAllText(dir.File("data/registry")));
        Assert.Empty(Directory.GetFiles(dir.File("data"), "registry.damaged-*"));

        var doctor = await PipelineProcess.RunAsync("doctor", "--config", dir.File("c.toml"));
        Assert.Equal(1, doctor.ExitCode);
        Assert.Contains("✗ registry:", doctor.Stdout, StringComparison.Ordinal);
        Assert.Contains("format version 9", doctor.Stdout, StringComparison.Ordinal);
    }
}
