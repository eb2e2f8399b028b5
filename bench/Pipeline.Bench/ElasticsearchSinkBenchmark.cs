using System.Diagnostics;
using System.Globalization;
using Pipeline.Testing;
using Pipeline.Testing.Elasticsearch;

namespace Pipeline.Bench;

/// <summary>
/// Documents per second from Kafka into the Elasticsearch test server on loopback through a real `pipeline sink`
/// process, for a sweep of batch sizes. The sink's CPU comes from its own /proc entry; the test server runs in this
/// process, so its cost is this process's CPU over the same interval, reported apart.
/// </summary>
internal static class ElasticsearchSinkBenchmark
{
    // BENCH_REPEATS=1 for a quick look; the median of three by default.
    private static readonly int Repeats = int.TryParse(Environment.GetEnvironmentVariable("BENCH_REPEATS"), out var n) && n > 0 ? n : 3;

    public static async Task<int> RunAsync(string[] args)
    {
        int docs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 30_000;
        int[] sizes = args.Length > 1 ? [.. args[1..].Select(a => int.Parse(a, CultureInfo.InvariantCulture))] : [100, 250, 500, 1000, 2000, 5000];
        using var dir = new TempDirectory("bench-es");
        File.WriteAllText(dir.File("broker.toml"), $"data_dir = \"{dir.File("data")}\"\n[metrics]\nlisten = \"\"\n");
        await using var broker = PipelineProcess.Start("broker", "--config", dir.File("broker.toml"));
        await broker.WaitForLineAsync(l => l.StartsWith("embedded Kafka broker at", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var bootstrap = File.ReadAllText(dir.File("data/bootstrap")).Trim();
        long valueBytes = 0;
        using (var feed = new EventFeed(bootstrap))
        {
            feed.Logs(docs);
            for (int n = 0; n < 100; n++) valueBytes += Pipeline.Schemas.Serialization.EventSerializer.Serialize(EventFeed.Log(n)).Length;
        }
        Console.Error.WriteLine($"{docs} log events on the broker (about {valueBytes / 100} bytes each)");

        var rows = new List<string>();
        foreach (var size in sizes)
        {
            var runs = new List<(double DocsPerSecond, double SinkCpu, double ServerCpu)>();
            for (int r = 0; r < Repeats; r++) runs.Add(await OneRunAsync(dir, docs, size, r));
            runs.Sort((a, b) => a.DocsPerSecond.CompareTo(b.DocsPerSecond));
            var median = runs[Repeats / 2];
            Console.Error.WriteLine($"batch_size {size}: {string.Join(", ", runs.Select(x => $"{x.DocsPerSecond:0} docs/s"))}");
            rows.Add($"| {size} | {median.DocsPerSecond:0} | {median.SinkCpu:0.00} | {median.ServerCpu:0.00} |");
        }
        Console.WriteLine($"### Elasticsearch sink: documents per second into the test server ({docs} log events of ~{valueBytes / 100} B, medians of {Repeats} runs)");
        Console.WriteLine();
        Console.WriteLine("| batch_size | docs/s | sink CPU s per 100k docs | test server CPU s per 100k docs |");
        Console.WriteLine("|---:|---:|---:|---:|");
        foreach (var row in rows) Console.WriteLine(row);
        return 0;
    }

    private static async Task<(double, double, double)> OneRunAsync(TempDirectory dir, int docs, int batchSize, int run)
    {
        await using var es = await ElasticsearchTestServer.StartAsync();
        var config = dir.File($"sink-{batchSize}-{run}.toml");
        File.WriteAllText(config, $"""
            data_dir = "{dir.File("data")}"
            [metrics]
            listen = ""
            [elasticsearch]
            url = "{es.Url}"
            [sinks]
            batch_size = {batchSize}
            group_id = "bench-{batchSize}-{run}"
            console_alerts = false
            """);
        await using var sink = PipelineProcess.Start("sink", "--config", config);
        var self = Process.GetCurrentProcess();
        // Timing starts at the first document, so start-up (JIT, template install, group join) is not counted.
        while (es.TotalItemsReceived == 0) await Task.Delay(5);
        var watch = Stopwatch.StartNew();
        var sinkCpu0 = sink.CpuTime;
        self.Refresh();
        var serverCpu0 = self.TotalProcessorTime;
        int first = es.TotalItemsReceived;
        var progressAt = DateTime.UtcNow;
        for (int seen = first; es.TotalItemsReceived < docs; await Task.Delay(5))
        {
            if (es.TotalItemsReceived != seen) { seen = es.TotalItemsReceived; progressAt = DateTime.UtcNow; }
            // The embedded broker keeps a few MiB per partition: records it dropped never arrive.
            if (DateTime.UtcNow - progressAt > TimeSpan.FromSeconds(30)) throw new TimeoutException($"stuck at {seen} of {docs} documents (broker retention?)");
        }
        var elapsed = watch.Elapsed.TotalSeconds;
        var sinkCpu = (sink.CpuTime - sinkCpu0).TotalSeconds;
        self.Refresh();
        var serverCpu = (self.TotalProcessorTime - serverCpu0).TotalSeconds;
        await sink.StopAsync();
        int counted = docs - first;
        return (counted / elapsed, sinkCpu / counted * 100_000, serverCpu / counted * 100_000);
    }
}
