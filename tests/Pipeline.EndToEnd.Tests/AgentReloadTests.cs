using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Pipeline.Plumbing.Kafka;
using Pipeline.Testing;

namespace Pipeline.EndToEnd.Tests;

/// <summary>`pipeline agent` reloading its config file on change and on SIGHUP, as an operator sees it: lines and /metrics.</summary>
public class AgentReloadTests
{
    [Fact]
    public async Task AChangedConfigIsAppliedABrokenOneIsRefusedAndSighupReloads()
    {
        using var dir = new TempDirectory("pipeline-reload-e2e");
        Directory.CreateDirectory(dir.File("logs/a"));
        Directory.CreateDirectory(dir.File("logs/b"));
        Directory.CreateDirectory(dir.File("data"));
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        broker.WriteBootstrapFile(dir.File("data/bootstrap"));
        int port = FreePort.Next();
        string Config(bool a, bool b, string extra = "") => $"""
            data_dir = "{dir.File("data")}"
            host_name = "reload-host"
            [metrics]
            listen = "127.0.0.1:{port}"
            {(a ? Input("a") : "")}
            {(b ? Input("b") : "")}
            {extra}
            """;
        string Input(string name) => $"""
            [[logs.inputs]]
            paths = ["{dir.File($"logs/{name}")}/*.log"]
            start_at = "beginning"
            scan_interval = "100ms"
            """;
        var config = dir.File("agent.toml");
        File.WriteAllText(config, Config(a: true, b: false));
        File.WriteAllText(dir.File("logs/a/a.log"), "a-1\n");
        File.WriteAllText(dir.File("logs/b/b.log"), "b-1\n");
        await using var agent = PipelineProcess.Start("agent", "--config", config);
        using var lines = new LineReader(broker.Bootstrap);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await lines.WaitForAsync("a-1");

        // Another input: its file is read, the first input's file is not reopened.
        File.WriteAllText(config, Config(a: true, b: true));
        await lines.WaitForAsync("b-1");
        Assert.Equal(1, await Metric(http, "pipeline_config_reloads_total", "result=\"success\""));

        // A broken file: refused with its location, and the running config keeps shipping.
        File.WriteAllText(config, Config(a: true, b: true, extra: "[logs.inputs.multiline]\npattern = '(oops'"));
        await Eventually.Get(() => Metric(http, "pipeline_config_reloads_total", "result=\"failure\""), v => v == 1, TimeSpan.FromSeconds(15), "the broken config refused");
        Assert.Equal(0, await Metric(http, "pipeline_config_last_reload_successful"));
        var body = await http.GetStringAsync("/metrics");
        var errorLine = body.Split('\n').Single(l => l.StartsWith("pipeline_config_last_reload_error_info{", StringComparison.Ordinal));
        Assert.Contains($"{config}:", errorLine);
        Assert.Contains("not a valid regular expression", errorLine);
        Assert.Contains("config reload (file changed) rejected", agent.Stderr);
        File.AppendAllText(dir.File("logs/a/a.log"), "a-2 while the broken config sits there\n");
        await lines.WaitForAsync("a-2 while the broken config sits there");
        // The one label with free text still passes both strict checkers.
        if (Peers.MissingReason("promtool", "prometheus") is null)
        {
            var lint = await Peers.RunAsync("promtool", ["check", "metrics"], stdin: body);
            Assert.True(lint.ExitCode == 0, lint.ToString());
        }
        if (Peers.DebianPython is { } python && (await Peers.RunAsync(python, ["-c", "import prometheus_client"])).ExitCode == 0)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.TryAddWithoutValidation("Accept", "application/openmetrics-text; version=1.0.0");
            var openMetrics = await (await http.SendAsync(request)).Content.ReadAsStringAsync();
            var parsed = await Peers.RunAsync(python, ["-c", "import sys\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families\nprint([s.labels['error'] for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples if f.name == 'pipeline_config_last_reload_error_info'])"], stdin: openMetrics);
            Assert.True(parsed.ExitCode == 0, parsed.ToString());
            Assert.Contains("not a valid regular expression", parsed.Stdout);
        }

        // Fixed, and the first input removed: its new lines are no longer shipped.
        File.WriteAllText(config, Config(a: false, b: true));
        await Eventually.Get(() => Metric(http, "pipeline_config_reloads_total", "result=\"success\""), v => v == 2, TimeSpan.FromSeconds(15), "the fixed config applied");
        Assert.Equal(1, await Metric(http, "pipeline_config_last_reload_successful"));
        Assert.DoesNotContain("pipeline_config_last_reload_error_info{", await http.GetStringAsync("/metrics"));

        // SIGHUP reloads even an unchanged file (and does not end the process).
        agent.Signal(PipelineProcess.SigHup);
        await Eventually.Get(() => Metric(http, "pipeline_config_reloads_total", "result=\"success\""), v => v == 3, TimeSpan.FromSeconds(15), "SIGHUP reload");
        File.AppendAllText(dir.File("logs/a/a.log"), "a-3 after its input was removed\n");
        File.AppendAllText(dir.File("logs/b/b.log"), "b-2\n");
        await lines.WaitForAsync("b-2");
        await Task.Delay(500);
        Assert.DoesNotContain("a-3 after its input was removed", lines.Messages);
        Assert.False(agent.HasExited);
        Assert.Equal(0, await agent.StopAsync());
    }

    private static async Task<double> Metric(HttpClient http, string name, string? label = null)
    {
        foreach (var line in (await http.GetStringAsync("/metrics")).Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || (label is not null && !line.Contains(label, StringComparison.Ordinal))) continue;
            var rest = line[name.Length..];
            if (rest.Length > 0 && rest[0] is not (' ' or '{')) continue;
            return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }
        return 0;
    }

    /// <summary>The messages reaching ops.logs.v1, read from the beginning.</summary>
    private sealed class LineReader : IDisposable
    {
        private readonly IConsumer<byte[], byte[]> _consumer;
        private readonly List<string> _messages = [];

        public LineReader(string bootstrap)
        {
            _consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "reload-e2e", FetchWaitMaxMs = 10 })
                .SetLogHandler((_, _) => { }).Build();
            _consumer.Assign(Enumerable.Range(0, 6).Select(p => new TopicPartitionOffset("ops.logs.v1", p, Offset.Beginning)));
        }

        public List<string> Messages
        {
            get
            {
                Poll(TimeSpan.FromMilliseconds(100));
                return _messages;
            }
        }

        public async Task WaitForAsync(string message)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!_messages.Contains(message))
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"\"{message}\" not received; got: {string.Join(" | ", _messages)}");
                Poll(TimeSpan.FromMilliseconds(100));
                await Task.Yield();
            }
        }

        private void Poll(TimeSpan wait)
        {
            for (var r = _consumer.Consume(wait); r is not null; r = _consumer.Consume(TimeSpan.Zero))
            {
                using var doc = JsonDocument.Parse(r.Message.Value);
                _messages.Add(doc.RootElement.GetProperty("message").GetString()!);
            }
        }

        public void Dispose()
        {
            _consumer.Close();
            _consumer.Dispose();
        }
    }
}
