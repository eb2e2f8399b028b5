using System.Globalization;
using System.Text;
using System.Text.Json;
using Pipeline.Plumbing.Kafka;
using Pipeline.Testing;

namespace Pipeline.EndToEnd.Tests;

/// <summary>
/// The "broker down" row, with the agent as its own process so its memory can be measured: the
/// broker goes down (15 s here rather than 60 s, for CI's budget), 40 MB of lines are written meanwhile,
/// and the agent's memory stays bounded because reading pauses; after the broker returns, every line is
/// acknowledged (the registry reaches the end of the file, and it only moves over acknowledged lines).
/// </summary>
public class AgentBrokerDownTests
{
    private const long InFlightLimit = 4 * 1024 * 1024;

    [Fact]
    public async Task WhileEveryBrokerIsDownMemoryStaysBoundedAndAfterwardsNoLineIsLost()
    {
        var output = TestContext.Current.TestOutputHelper;
        using var dir = new TempDirectory("pipeline-down");
        Directory.CreateDirectory(dir.File("logs"));
        Directory.CreateDirectory(dir.File("data"));
        // The test holds the embedded broker, so it can take it down; the agent finds it through data_dir/bootstrap.
        using var broker = new EmbeddedBroker();
        broker.CreateTopics();
        broker.WriteBootstrapFile(dir.File("data/bootstrap"));
        int metricsPort = FreePort.Next();
        File.WriteAllText(dir.File("c.toml"), $"""
            data_dir = "{dir.File("data")}"
            host_name = "down-host"
            [kafka]
            properties = {"{"} "reconnect.backoff.max.ms" = "250" {"}"}
            [metrics]
            listen = "127.0.0.1:{metricsPort}"
            [logs]
            max_in_flight_bytes = {InFlightLimit}
            [[logs.inputs]]
            paths = ["{dir.File("logs")}/*.log"]
            start_at = "beginning"
            scan_interval = "100ms"
            """);
        var log = dir.File("logs/app.log");
        File.WriteAllText(log, string.Concat(Enumerable.Range(0, 1000).Select(i => $"warm-up {i}\n")));
        await using var agent = PipelineProcess.Start("agent", "--config", dir.File("c.toml"));
        await Eventually.True(() => RegistryOffset(dir) == new FileInfo(log).Length, TimeSpan.FromSeconds(60), "the agent shipping");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        long baseline = 0;
        for (int i = 0; i < 10; i++)
        {
            baseline = Math.Max(baseline, agent.ResidentBytes);
            await Task.Delay(100);
        }

        broker.SetBrokerDown(1);
        var down = DateTime.UtcNow;
        // 40 MB of ~120-byte lines, far more than the agent may hold: the file must be the buffer.
        const int lines = 330_000;
        using (var f = new FileStream(log, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
            var sb = new StringBuilder();
            for (int i = 0; i < lines; i++)
            {
                sb.Append(CultureInfo.InvariantCulture, $"2026-11-27T12:00:00.000Z INFO request {i:D7} handled in 12 ms by worker-3 for tenant acme-corp path /api/v1/items\n");
                if (sb.Length > 1 << 20) { f.Write(Encoding.UTF8.GetBytes(sb.ToString())); sb.Clear(); }
            }
            f.Write(Encoding.UTF8.GetBytes(sb.ToString()));
        }
        long size = new FileInfo(log).Length;
        long peakRss = 0;
        double peakInFlight = 0;
        while (DateTime.UtcNow - down < TimeSpan.FromSeconds(15))
        {
            peakRss = Math.Max(peakRss, agent.ResidentBytes);
            peakInFlight = Math.Max(peakInFlight, await Metric(http, "pipeline_log_in_flight_bytes"));
            await Task.Delay(200);
        }
        long offsetWhileDown = RegistryOffset(dir);
        broker.SetBrokerUp(1);
        var up = DateTime.UtcNow;
        await Eventually.True(() => RegistryOffset(dir) == size, TimeSpan.FromSeconds(60), "every line acknowledged");
        var drained = DateTime.UtcNow - up;
        double shipped = await Metric(http, "pipeline_events_out_total", "stage=\"producers.logs\"");
        Assert.Equal(0, await agent.StopAsync());

        output?.WriteLine($"RSS {baseline / 1048576.0:F0} MiB before, peak {peakRss / 1048576.0:F0} MiB while down with {size / 1048576.0:F0} MiB waiting in the file; " +
            $"peak in flight {peakInFlight / 1048576.0:F1} MiB (limit {InFlightLimit / 1048576} MiB); {shipped} lines acknowledged, backlog shipped in {drained.TotalSeconds:F1} s");
        Assert.InRange(peakInFlight, 1, InFlightLimit + 4096);
        // The events held in flight exist twice (the agent's copy and librdkafka's), plus the runtime's slack:
        // the growth is bounded by the limit, not by the 40 MB (about 110 MB encoded) waiting in the file.
        Assert.True(peakRss - baseline < 4 * InFlightLimit + 48 * 1024 * 1024, $"RSS grew by {(peakRss - baseline) / 1048576.0:F0} MiB while the broker was down");
        Assert.True(offsetWhileDown < size / 10, $"the registry moved to {offsetWhileDown} while nothing could be acknowledged");
        Assert.True(shipped >= 1000 + lines, $"only {shipped} lines acknowledged");
    }

    private static long RegistryOffset(TempDirectory dir)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(dir.File("data/registry")));
            return doc.RootElement.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("path").GetString()!.EndsWith("app.log", StringComparison.Ordinal)).Select(e => e.GetProperty("offset").GetInt64()).FirstOrDefault();
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return -1;
        }
    }

    private static async Task<double> Metric(HttpClient http, string name, string? label = null)
    {
        var text = await http.GetStringAsync("/metrics");
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || (label is not null && !line.Contains(label, StringComparison.Ordinal))) continue;
            var rest = line[name.Length..];
            if (rest.Length > 0 && rest[0] is not (' ' or '{')) continue;
            return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }
        return 0;
    }
}
