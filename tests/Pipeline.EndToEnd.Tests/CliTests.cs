using System.Text.Json;
using Pipeline.Testing;

namespace Pipeline.EndToEnd.Tests;

public class CliTests
{
    [Fact]
    public async Task VersionJsonIsValidJsonWithProvenance()
    {
        var r = await PipelineProcess.RunAsync("version", "--json");
        Assert.Equal(0, r.ExitCode);
        var v = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Matches(@"^\d+\.\d+\.\d+", v.GetProperty("version").GetString());
        Assert.Matches("^([0-9a-f]{40}|unknown)$", v.GetProperty("commit").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT", v.GetProperty("build_time").GetString());
        Assert.Contains(".NET", v.GetProperty("runtime").GetString());
        Assert.Matches(@"^\d+\.\d+", v.GetProperty("librdkafka").GetString());
    }

    [Fact]
    public async Task AMalformedConfigExitsTwoWithOneLineNamingThePlace()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("bad.toml"), "[kafka]\nbootstrap = \"embedded\"\nembeded_port = 9092\n");
        var r = await PipelineProcess.RunAsync("run", "--config", dir.File("bad.toml"));
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"{dir.File("bad.toml")}:3:1", line);
        Assert.Contains("did you mean 'embedded_port'", line);
    }

    [Fact]
    public async Task ConfigCheckPrintsTheEffectiveConfigWithSecretsMasked()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("ok.toml"), "[elasticsearch]\nurl = \"http://es:9200\"\napi_key = \"${env:E2E_KEY:-topsecret}\"\n");
        var r = await PipelineProcess.RunAsync("config", "check", dir.File("ok.toml"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("bootstrap = \"embedded\"", r.Stdout);
        Assert.Contains("url = \"http://es:9200\"", r.Stdout);
        Assert.DoesNotContain("topsecret", r.Stdout);
        Assert.Contains("********", r.Stdout);
    }

    [Fact]
    public async Task HelpTeachesEachCommandWithAnExample()
    {
        foreach (var command in new[] { "run", "agent", "process", "sink", "broker", "version", "ps", "snapshot", "snapshot export", "doctor" })
        {
            var r = await PipelineProcess.RunAsync([.. command.Split(' '), "--help"]);
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("Examples:", r.Stdout);
            Assert.Contains($"pipeline {command}", r.Stdout);
        }
    }

    [Fact]
    public async Task HelpTeachesTheProbeAndOperatorCommandsWithAnExample()
    {
        foreach (var command in new[] { new[] { "probe", "run" }, ["operator"] })
        {
            var r = await PipelineProcess.RunAsync([.. command, "--help"]);
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("Examples:", r.Stdout);
            Assert.Contains($"pipeline {string.Join(' ', command)}", r.Stdout);
        }
    }

    [Fact]
    public async Task ProbeRunOncePrintsATableAndExitsNonZeroWhenAProbeReportsAProblem()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("heartbeat"), "x");
        var config = dir.File("probes.toml");
        File.WriteAllText(config, $"[[probes]]\nname = \"heartbeat\"\ntype = \"file\"\ntarget = \"{dir.File("heartbeat")}\"\n");
        var ok = await PipelineProcess.RunAsync("probe", "run", "--config", config, "--once");
        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("heartbeat", ok.Stdout);
        Assert.Contains(" ok ", ok.Stdout);

        File.AppendAllText(config, $"[[probes]]\nname = \"db\"\ntype = \"tcp\"\ntarget = \"127.0.0.1:{FreePort.Next()}\"\n");
        var problem = await PipelineProcess.RunAsync("probe", "run", "--config", config, "--once");
        Assert.Equal(1, problem.ExitCode);
        Assert.Contains("connection_refused", problem.Stdout);

        File.AppendAllText(config, "[[probes]]\nname = \"x\"\ntype = \"exec\"\nargv = [\"check.sh\"]\n");
        var bad = await PipelineProcess.RunAsync("probe", "run", "--config", config, "--once");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("probes.toml:12:9: probe \"x\": argv[0] \"check.sh\" must be an absolute path", bad.Stderr);
    }

    [Fact]
    public async Task AStageWithoutABrokerSaysHowToStartOne()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("a.toml"), $"data_dir = \"{dir.File("data")}\"\n");
        var r = await PipelineProcess.RunAsync("agent", "--config", dir.File("a.toml"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("pipeline broker", r.Stderr);
    }

    [Fact]
    public async Task ASecondAgentProcessShipsThroughABrokerProcess()
    {
        if (Peers.MissingReason("kcat", "kcat") is { } reason) Assert.Skip(reason);
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("logs"));
        File.WriteAllText(dir.File("c.toml"), $"""
            data_dir = "{dir.File("data")}"
            host_name = "agent-host"
            [metrics]
            listen = ""
            [[logs.inputs]]
            paths = ["{dir.File("logs")}/*.log"]
            start_at = "beginning"
            scan_interval = "100ms"
            """);
        File.WriteAllLines(dir.File("logs/a.log"), ["one", "two", "three"]);
        await using var broker = PipelineProcess.Start("broker", "--config", dir.File("c.toml"));
        await broker.WaitForLineAsync(l => l.StartsWith("embedded Kafka broker at", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var bootstrap = File.ReadAllText(dir.File("data/bootstrap")).Trim();
        await using var agent = PipelineProcess.Start("agent", "--config", dir.File("c.toml"));
        var messages = await Eventually.Get(async () =>
        {
            var r = await Peers.RunAsync("kcat", ["-b", bootstrap, "-C", "-t", "ops.logs.v1", "-o", "beginning", "-e", "-q", "-f", "%s\n"]);
            return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("message").GetString()).ToList();
        }, m => m?.Count == 3, TimeSpan.FromSeconds(60), "3 lines from the agent via the broker process");
        Assert.Equal(["one", "two", "three"], messages);
        Assert.Equal(0, await agent.StopAsync());
        Assert.Equal(0, await broker.StopAsync());
    }
}
