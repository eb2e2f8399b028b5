using System.Text.Json;
using Pipeline.Testing;
using Pipeline.Testing.Elasticsearch;

namespace Pipeline.EndToEnd.Tests;

/// <summary><c>pipeline doctor</c> against a host that is set up right, and against a config that is not.</summary>
public class DoctorTests
{
    [Fact]
    public async Task AHostSetUpRightPassesEveryCheckAndExitsZero()
    {
        using var dir = new TempDirectory("doctor-ok");
        Directory.CreateDirectory(dir.File("logs"));
        File.WriteAllLines(dir.File("logs/app.log"), ["hello"]);
        await using var es = await ElasticsearchTestServer.StartAsync();
        File.WriteAllText(dir.File("agent.toml"), $"""
            data_dir = "{dir.File("data")}"
            [metrics]
            listen = ""
            [[logs.inputs]]
            paths = ["{dir.File("logs")}/*.log"]
            [elasticsearch]
            url = "{es.Url}"
            """);
        await using var broker = PipelineProcess.Start("broker", "--config", dir.File("agent.toml"));
        await broker.WaitForLineAsync(l => l.StartsWith("embedded Kafka broker at", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        var r = await PipelineProcess.RunAsync("doctor", "--config", dir.File("agent.toml"));
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.True(l.StartsWith("✓ ", StringComparison.Ordinal) || l.StartsWith("! ", StringComparison.Ordinal), l));
        foreach (var check in new[] { "config", "data dir", "registry", $"logs {dir.File("logs")}/*.log", "/proc", "kafka", "kafka topics", "elasticsearch", "clock" })
            Assert.Contains(lines, l => l.StartsWith($"✓ {check}:", StringComparison.Ordinal));
        // Host facts this machine may lack (cgroup v2 in a container) are warnings with a fix, never failures.
        Assert.All(lines.Where(l => l.StartsWith("! ", StringComparison.Ordinal)), l => Assert.Contains("; fix: ", l));

        var json = await PipelineProcess.RunAsync("doctor", "--config", dir.File("agent.toml"), "--json");
        Assert.Equal(0, json.ExitCode);
        var report = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.True(report.GetProperty("ok").GetBoolean());
        Assert.Equal(lines.Length, report.GetProperty("checks").GetArrayLength());
        Assert.Equal(0, await broker.StopAsync());
    }

    [Fact]
    public async Task ABrokenConfigNamesEachProblemWithAFixAndExitsOne()
    {
        using var dir = new TempDirectory("doctor-bad");
        File.WriteAllText(dir.File("not-a-dir"), "");
        Directory.CreateDirectory(dir.File("logs"));
        File.WriteAllText(dir.File("agent.toml"), $"""
            data_dir = "{dir.File("not-a-dir")}/data"
            [kafka]
            bootstrap = "127.0.0.1:{FreePort.Next()}"
            [[logs.inputs]]
            paths = ["{dir.File("logs")}/*.log", "{dir.File("missing")}/*.log"]
            [elasticsearch]
            url = "http://127.0.0.1:{FreePort.Next()}"
            """);

        var r = await PipelineProcess.RunAsync("doctor", "--config", dir.File("agent.toml"));
        Assert.True(r.ExitCode == 1, r.ToString());
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string Failed(string check) => Assert.Single(lines, l => l.StartsWith($"✗ {check}:", StringComparison.Ordinal));
        Assert.Contains("cannot be created", Failed("data dir"));
        Assert.Contains("matches no file", Failed($"logs {dir.File("logs")}/*.log"));
        Assert.Contains("does not exist", Failed($"logs {dir.File("missing")}/*.log"));
        Assert.Contains("did not answer", Failed("kafka"));
        Assert.Contains("did not answer", Failed("elasticsearch"));
        Assert.All(lines.Where(l => l.StartsWith("✗ ", StringComparison.Ordinal)), l => Assert.Contains("; fix: ", l));

        var json = await PipelineProcess.RunAsync("doctor", "--config", dir.File("agent.toml"), "--json");
        Assert.Equal(1, json.ExitCode);
        Assert.False(JsonDocument.Parse(json.Stdout).RootElement.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task AConfigThatDoesNotParseIsTheOnlyCheckAndSaysHowToSeeEveryError()
    {
        using var dir = new TempDirectory("doctor-syntax");
        File.WriteAllText(dir.File("agent.toml"), "[kafka]\nbootstrp = \"x:1\"\n");
        var r = await PipelineProcess.RunAsync("doctor", "--config", dir.File("agent.toml"));
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("✗ config:", line);
        Assert.Contains("did you mean 'bootstrap'", line);
        Assert.Contains("fix: pipeline config check", line);
    }
}
