using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Pipeline.Testing;

namespace Pipeline.EndToEnd.Tests;

/// <summary>deploy/pipeline/agent-self-logs.toml: an agent whose stderr goes to a file ships its own logs, level and message from the JSON.</summary>
public partial class SelfLogsTests
{
    [Fact]
    public async Task TheAgentShipsItsOwnLogLinesWithTheirLevelAndMessage()
    {
        using var dir = new TempDirectory("pipeline-self-logs");
        var logs = dir.File("var-log-pipeline");
        Directory.CreateDirectory(logs);
        // The example as shipped, pointed at this test's directories and broker.
        var example = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "deploy", "pipeline", "agent-self-logs.toml"));
        var config = example
            .Replace("\"/var/lib/pipeline\"", $"\"{dir.File("data")}\"", StringComparison.Ordinal)
            .Replace("\"kafka:9092\"", "\"embedded\"", StringComparison.Ordinal)
            .Replace("/var/log/pipeline/", logs + "/", StringComparison.Ordinal);
        Assert.NotEqual(example, config);
        File.WriteAllText(dir.File("agent.toml"), config + "\n[metrics]\nlisten = \"\"\n");
        File.WriteAllText(dir.File("broker.toml"), $"data_dir = \"{dir.File("data")}\"\n[metrics]\nlisten = \"\"\n");

        await using var broker = PipelineProcess.Start("broker", "--config", dir.File("broker.toml"));
        await broker.WaitForLineAsync(l => l.StartsWith("embedded Kafka broker at", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var bootstrap = File.ReadAllText(dir.File("data/bootstrap")).Trim();
        // As systemd's StandardError=append: does it.
        var agentLog = Path.Combine(logs, "agent.log");
        await using var agent = PipelineProcess.StartExecutable("sh", null, "-c", $"exec dotnet \"{PipelineProcess.Dll}\" agent --config \"{dir.File("agent.toml")}\" 2>>\"{agentLog}\"");

        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "self-logs-e2e", FetchWaitMaxMs = 10 })
            .SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, 6).Select(p => new TopicPartitionOffset("ops.logs.v1", p, Offset.Beginning)));
        JsonElement? started = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var seen = new List<string>();
        while (started is null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the agent's own \"log tailer started\" line never reached ops.logs.v1; got: {string.Join(" | ", seen)}\nagent.log:\n{(File.Exists(agentLog) ? File.ReadAllText(agentLog) : "(none)")}");
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            var root = JsonDocument.Parse(r.Message.Value).RootElement.Clone();
            var message = root.GetProperty("message").GetString()!;
            seen.Add(message);
            if (message.StartsWith("log tailer started", StringComparison.Ordinal)) started = root;
        }
        consumer.Close();
        Assert.Equal(0, await agent.StopAsync(PipelineProcess.SigTerm));

        var e = started.Value;
        // The message is the JSON's, not the raw JSON line; the level is normalised from .NET's "Information".
        Assert.DoesNotMatch(JsonLine(), e.GetProperty("message").GetString()!);
        Assert.Equal("info", e.GetProperty("log").GetProperty("level").GetString());
        Assert.Contains("pipeline-self", e.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(agentLog, e.GetProperty("log").GetProperty("file").GetProperty("path").GetString());
    }

    [GeneratedRegex(@"^\s*\{")]
    private static partial Regex JsonLine();
}
