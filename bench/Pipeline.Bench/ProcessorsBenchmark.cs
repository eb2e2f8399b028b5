using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Processors;
using Pipeline.Processors.Decoding;
using Pipeline.Processors.Filtering;
using Pipeline.Producers.Logs;
using Pipeline.Schemas.Topics;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Kafka;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.Stream;

namespace Pipeline.Bench;

/// <summary>
/// bench/processors.sh's two halves, each its own process so the topology's peak RSS is its own:
/// <c>produce</c> fills ops.logs.v1 of a running <c>pipeline broker</c> with log events over a given number of hosts
/// (the rules group by host.name, so hosts are the keys); <c>run</c> then drains that backlog through either a bare
/// Streamiz pass-through (source -> sink topic) or the processors' real topology built from the config, and prints
/// one line of key=value results.
/// </summary>
internal static class ProcessorsBenchmark
{
    public const string PassThroughTopic = "bench.passthrough";

    public static async Task<int> RunAsync(string[] args) => args switch
    {
        ["produce", var bootstrap, var events, var keys] => Produce(bootstrap, Int(events), Int(keys)),
        ["run", var config, var bootstrap, var variant, var events] => await DrainAsync(config, bootstrap, variant, Int(events)),
        _ => Usage(),
    };

    private static int Int(string s) => int.Parse(s, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    private static int Usage()
    {
        Console.Error.WriteLine("usage: Pipeline.Bench processors produce BOOTSTRAP EVENTS KEYS | run CONFIG BOOTSTRAP passthrough|full EVENTS");
        return 2;
    }

    // Shaped like bench/logs.sh's lines; levels 80/10/7/3 % INFO/WARN/DEBUG/ERROR.
    private static readonly string[] Levels = [.. Enumerable.Repeat("INFO", 80), .. Enumerable.Repeat("WARN", 10), .. Enumerable.Repeat("DEBUG", 7), .. Enumerable.Repeat("ERROR", 3)];
    private static readonly string[] Paths = ["/api/v1/items", "/api/v1/orders", "/health", "/api/v2/users/42", "/login", "/static/app.js"];
    private static readonly int[] Statuses = [200, 200, 200, 200, 201, 204, 304, 404, 500, 503];

    private static int Produce(string bootstrap, int events, int keys)
    {
        var kafka = new KafkaSettings(new KafkaConfig(), bootstrap, embedded: true);
        var config = kafka.Producer("bench");
        // Stored compressed by the mock broker, whose retention is ~5 MiB per partition: the backlog must all be there.
        config.CompressionType = CompressionType.Lz4;
        config.LingerMs = 20;
        using var producer = new ProducerBuilder<byte[], byte[]>(config).Build();
        var encoders = new LogEventEncoder?[keys];
        var keyBytes = new byte[keys][];
        var random = new Random(20261127);
        var now = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < events; i++)
        {
            int k = i % keys;
            var encoder = encoders[k] ??= new LogEventEncoder($"host-{k:D6}", new Dictionary<string, string>(), []);
            keyBytes[k] ??= Encoding.UTF8.GetBytes($"host-{k:D6}");
            var level = Levels[random.Next(Levels.Length)];
            var status = Statuses[random.Next(Statuses.Length)];
            var extra = random.Next(20) == 0 ? " payment provider timeout password=hunter2" : "";
            var line = $"{now.AddMilliseconds(i):yyyy-MM-ddTHH:mm:ss.fffZ} {level} [worker-{random.Next(8)}] GET {Paths[random.Next(Paths.Length)]} status={status} took={random.Next(900)}ms{extra}";
            var value = encoder.Encode(Encoding.UTF8.GetBytes(line), i * 120L, "/var/log/app.log", "1:1:1", now.AddMilliseconds(i), LineFlags.None);
            while (true)
            {
                try
                {
                    producer.Produce(TopicCatalog.Logs.Name, new Message<byte[], byte[]> { Key = keyBytes[k], Value = value });
                    break;
                }
                catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
        }
        // The mock creates a topic on its first produce (4 partitions); Streamiz's producer does not ask it to.
        producer.Produce(PassThroughTopic, new Message<byte[], byte[]> { Key = "warm-up"u8.ToArray(), Value = [] });
        producer.Flush(TimeSpan.FromSeconds(60));
        Console.Error.WriteLine($"produced {events} events over {keys} keys in {watch.Elapsed.TotalSeconds:0.0}s");
        return 0;
    }

    private static async Task<int> DrainAsync(string configPath, string bootstrap, string variant, int events)
    {
        var config = ConfigLoader.Load(configPath).Config;
        var kafka = new KafkaSettings(config.Kafka, bootstrap, embedded: true);
        // Warnings and errors to stderr: stdout carries the result line.
        using var loggers = LoggerFactory.Create(b => b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning));
        var streamConfig = StreamProcessorService.StreamConfig(config, kafka, loggers);
        // Both variants run with the shipped commit interval (1 s), which is also the granularity at which progress is
        // seen from outside: bench/processors.sh drains enough events that a commit is a small part of the run. COMMIT_MS
        // overrides it (the processors write each changed group's state at every commit, so a shorter interval costs the
        // full topology more than the pass-through: at 100 ms its rate was a third lower).
        if (Environment.GetEnvironmentVariable("COMMIT_MS") is { } commitMs) streamConfig.CommitIntervalMs = int.Parse(commitMs, CultureInfo.InvariantCulture);
        var inputs = new List<(string Topic, int Partitions)> { (TopicCatalog.Logs.Name, TopicCatalog.Logs.Partitions) };
        Topology topology;
        if (variant == "passthrough")
        {
            var builder = new StreamBuilder();
            builder.Stream<string, byte[]>(TopicCatalog.Logs.Name, new StringSerDes(), new ByteArraySerDes())
                .To(PassThroughTopic, new StringSerDes(), new ByteArraySerDes());
            topology = builder.Build();
        }
        else
        {
            var rules = StreamProcessorService.CompileRules(config);
            topology = ProcessorTopology.Build(rules, new ProcessorTopology.Options(
                config.Processors.ApplicationId, config.EffectiveHostName, Duration.Parse(config.Processors.EvaluationInterval), new ProcessorActivity(), TimeProvider.System)
            {
                Filters = SourceFilterChains.From(config),
                WriteFiltered = StreamProcessorService.FilteredSources(config),
            });
            foreach (var (name, count) in ProcessorTopology.InternalTopics(config.Processors.ApplicationId, rules))
            {
                if (name.EndsWith("-repartition", StringComparison.Ordinal)) inputs.Add((name, count));
            }
        }

        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        using var stream = new KafkaStream(topology, streamConfig, new DefaultKafkaClientSupplier(new KafkaLoggerAdapter(streamConfig), streamConfig));
        var failed = false;
        stream.StateChanged += (_, to) =>
        {
            if (to == KafkaStream.State.ERROR) failed = true;
        };
        var started = Stopwatch.StartNew();
        await stream.StartAsync();

        var watcher = kafka.Consumer("bench-watch", config.Processors.ApplicationId);
        watcher.EnableAutoCommit = false;
        using var consumer = new ConsumerBuilder<byte[], byte[]>(watcher).Build();
        var partitions = new List<TopicPartition>();
        foreach (var (topic, count) in inputs)
        {
            for (int p = 0; p < count; p++) partitions.Add(new TopicPartition(topic, p));
        }
        // The rate is taken between commits, which are what can be seen from outside: from the first commit (group
        // joined, tasks created, first records through, so start-up is left out) to the last one made while records
        // were still coming, both at full speed. The commit that completes the drain is not used: the drain ended
        // somewhere in the interval before it, and at the shipped 1 s interval that would be a second's error on a
        // few seconds' drain. With no commit in between, the whole span to completion is used.
        TimeSpan? firstAt = null;
        long firstCount = 0;
        TimeSpan lastMidAt = default;
        long lastMidCount = 0;
        var limit = TimeSpan.FromSeconds(110);
        while (started.Elapsed < limit && !failed)
        {
            await Task.Delay(50);
            var (sourceDone, allCaughtUp) = Progress(consumer, partitions);
            if (firstAt is null && sourceDone > 0)
            {
                firstAt = started.Elapsed;
                firstCount = sourceDone;
            }
            else if (firstAt is not null && sourceDone < events && sourceDone > lastMidCount && sourceDone > firstCount)
            {
                lastMidAt = started.Elapsed;
                lastMidCount = sourceDone;
            }
            if (sourceDone >= events && allCaughtUp)
            {
                bool between = lastMidCount > firstCount;
                var seconds = ((between ? lastMidAt : started.Elapsed) - firstAt!.Value).TotalSeconds;
                long measured = (between ? lastMidCount : events) - firstCount;
                var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
                var rate = measured / Math.Max(seconds, 0.001);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"variant={variant} events={events} measured={measured} seconds={seconds:0.000} rate={rate:0} startup_s={firstAt.Value.TotalSeconds:0.00} drained_s={(started.Elapsed - firstAt.Value).TotalSeconds:0.00} cpu_s={cpu:0.00} peak_rss_mib={PeakRssMib():0.0} gc_heap_mib={GC.GetTotalMemory(false) / 1048576.0:0.0}"));
                return 0;
            }
        }
        if (failed) Console.Error.WriteLine("the stream went to ERROR; see the log above");
        Console.Error.WriteLine($"not drained within {limit.TotalSeconds:0}s: {Progress(consumer, partitions)}");
        return 1;
    }

    /// <summary>Records of the source committed by the group, and whether every input (source and repartition) is committed to its end.</summary>
    private static (long SourceDone, bool AllCaughtUp) Progress(IConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions)
    {
        List<TopicPartitionOffset> committed;
        try
        {
            committed = consumer.Committed(partitions, TimeSpan.FromSeconds(5));
        }
        catch (KafkaException)
        {
            return (0, false);
        }
        long source = 0;
        bool caughtUp = true;
        foreach (var c in committed)
        {
            long at = c.Offset.Value < 0 ? 0 : c.Offset.Value;
            if (c.Topic == TopicCatalog.Logs.Name) source += at;
            if (at < consumer.QueryWatermarkOffsets(c.TopicPartition, TimeSpan.FromSeconds(5)).High.Value) caughtUp = false;
        }
        return (source, caughtUp);
    }

    private static double PeakRssMib()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 1024.0;
        }
        return double.NaN;
    }
}
