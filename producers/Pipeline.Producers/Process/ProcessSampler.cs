using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Expressions;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;

namespace Pipeline.Producers.Process;

/// <summary>
/// The process producer in <c>pipeline agent</c> and <c>pipeline run</c>. Every <c>process.interval</c>
/// it publishes a sample of the selected processes to <c>ops.process.v1</c> (<c>event.kind=metric</c>);
/// every <c>process.scan_interval</c> in between it publishes processes that started or exited and OOM
/// kills (<c>event.kind=event</c>). When Kafka cannot take them, they wait in a disk spool under
/// <c>data_dir/spool/process</c> and are replayed in order.
/// </summary>
public sealed class ProcessSampler : BackgroundService
{
    private const string Stage = "producers.process";
    private static readonly TimeSpan PumpEvery = TimeSpan.FromMilliseconds(100);

    private readonly PipelineConfig _config;
    private readonly ProcessConfig _options;
    private readonly KafkaSettings _kafka;
    private readonly ILogger<ProcessSampler> _logger;
    private readonly Expression _where;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _scanInterval;
    private readonly byte[] _key;
    private readonly ProcessEventEncoder _encoder;
    private readonly List<ProcessRecord> _selected = [];
    private readonly List<OomKill> _kills = [];
    private readonly HashSet<string> _cgroups = new(StringComparer.Ordinal);
    private long _samples;

    public ProcessSampler(PipelineConfig config, KafkaSettings kafka, ILogger<ProcessSampler> logger)
    {
        _config = config;
        _options = config.Process;
        _kafka = kafka;
        _logger = logger;
        _where = Expression.Parse(_options.Where);
        _interval = Duration.Parse(_options.Interval);
        _scanInterval = Duration.Parse(_options.ScanInterval);
        _key = Encoding.UTF8.GetBytes(config.EffectiveHostName);
        _encoder = new ProcessEventEncoder(config.EffectiveHostName);
    }

    /// <summary>Samples taken since start.</summary>
    public long Samples => Interlocked.Read(ref _samples);

    /// <summary>Where the spool lives.</summary>
    public static string SpoolDirectory(PipelineConfig config) => Path.Combine(config.DataDir, "spool", "process");

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        // /proc reads and producer calls block: give the loop its own thread rather than a pool thread.
        => Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(_kafka.Producer("process"))
            .SetErrorHandler((_, e) => _logger.LogWarning("kafka producer (process): {Reason} ({Code})", e.Reason, e.Code))
            .SetLogHandler(KafkaLog.To(_logger))
            .Build();
        using var spool = new DiskSpool(SpoolDirectory(_config), _options.SpoolMaxBytes);
        var publisher = new SpoolingProducer(producer, spool, TopicCatalog.Process.Name, Stage, _logger);
        var collector = new ProcessCollector(_options.ProcRoot, new LabelRules(_options.Labels));
        using var oom = new OomWatcher(_logger, _options.ProcRoot);
        if (collector.HidepidMode is { } hidepid && Environment.UserName != "root")
            _logger.LogWarning("{Proc} is mounted with {Option}: processes of other users are not visible to this agent", collector.ProcRoot, hidepid);
        _logger.LogInformation("process sampler started: every {Interval} ({Sample}), start/exit and OOM checks every {Scan}, spool {Spool}",
            _options.Interval, _options.Sample == ProcessConfig.SampleTop ? $"top {_options.TopN} by {_options.TopBy}" : "all", _options.ScanInterval, spool.Directory);

        var nextSample = DateTime.UtcNow;
        var nextScan = nextSample + _scanInterval;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var now = DateTime.UtcNow;
                if (now >= nextSample)
                {
                    SampleOnce(collector, publisher);
                    // Keep the cadence; after a stall (suspend, overload) start again from now instead of bursting.
                    nextSample += _interval;
                    if (nextSample <= now) nextSample = now + _interval;
                    nextScan = now + _scanInterval;
                    PollOom(collector, oom, publisher);
                }
                else if (now >= nextScan)
                {
                    var scan = collector.Scan();
                    if (scan.Started.Count + scan.Exited.Count > 0)
                    {
                        using var span = BeginBatch(publisher, "process lifecycle publish");
                        PublishLifecycle(scan, publisher);
                        publisher.Headers = null;
                    }
                    PollOom(collector, oom, publisher);
                    nextScan = now + _scanInterval;
                }
                publisher.Pump();
                var wake = nextSample < nextScan ? nextSample : nextScan;
                var wait = wake - DateTime.UtcNow;
                if (publisher.Spooling && wait > PumpEvery) wait = PumpEvery;
                if (wait > TimeSpan.Zero) stop.WaitHandle.WaitOne(wait);
            }
        }
        finally
        {
            publisher.Close(TimeSpan.FromSeconds(10));
            _logger.LogInformation("process sampler stopped: {Samples} samples, {Delivered} records delivered, {Spooled} waiting in the spool",
                Samples, publisher.Delivered, spool.Count);
        }
    }

    /// <summary>One span per published batch (a sample, a scan's starts and exits, OOM kills); its traceparent goes on each record.</summary>
    private static Activity? BeginBatch(SpoolingProducer publisher, string name, bool keep = false)
    {
        var span = keep ? PipelineTracing.StartKept(name, ActivityKind.Producer, "error") : PipelineTracing.StartBatch(name, ActivityKind.Producer);
        publisher.Headers = PipelineTracing.HeadersFor(span);
        return span;
    }

    private void SampleOnce(ProcessCollector collector, SpoolingProducer publisher)
    {
        using var span = BeginBatch(publisher, "process sample publish");
        try
        {
            SampleAndPublish(collector, publisher);
        }
        finally
        {
            publisher.Headers = null;
        }
    }

    private void SampleAndPublish(ProcessCollector collector, SpoolingProducer publisher)
    {
        long started = Stopwatch.GetTimestamp();
        var snapshot = collector.Sample();
        PipelineMetrics.ProcessSampleSeconds.Set(Stopwatch.GetElapsedTime(started).TotalSeconds);
        PublishLifecycle(snapshot, publisher);
        // The cgroups whose OOM counters are read: those processes run in, renewed with every sample.
        _cgroups.Clear();
        collector.UnifiedCgroups(_cgroups);
        Select(snapshot.Processes);
        foreach (var p in _selected)
            publisher.Publish(SpoolKind.Sample, _key, EventSerializer.Serialize(_encoder.Sample(p, snapshot.Time)));
        Interlocked.Increment(ref _samples);
    }

    // The selection: the `where` filter, then everything or the top N.
    private void Select(List<ProcessRecord> processes)
    {
        _selected.Clear();
        foreach (var p in processes)
        {
            if (_where.Matches(new ProcessFieldSource(p))) _selected.Add(p);
        }
        if (_options.Sample != ProcessConfig.SampleTop || _selected.Count <= _options.TopN) return;
        if (_options.TopBy == "memory") _selected.Sort(static (a, b) => b.RssBytes.CompareTo(a.RssBytes));
        else _selected.Sort(static (a, b) => b.CpuPct.CompareTo(a.CpuPct));
        _selected.RemoveRange(_options.TopN, _selected.Count - _options.TopN);
    }

    private void PublishLifecycle(ProcessSnapshot snapshot, SpoolingProducer publisher)
    {
        foreach (var p in snapshot.Started)
        {
            if (p.Cgroup.UnifiedPath is { } cgroup) _cgroups.Add(cgroup);
        }
        foreach (var p in snapshot.Exited)
        {
            if (_where.Matches(new ProcessFieldSource(p)))
                publisher.Publish(SpoolKind.Event, _key, EventSerializer.Serialize(_encoder.Exited(p, snapshot.Time)));
        }
        foreach (var p in snapshot.Started)
        {
            if (_where.Matches(new ProcessFieldSource(p)))
                publisher.Publish(SpoolKind.Event, _key, EventSerializer.Serialize(_encoder.Started(p, snapshot.Time)));
        }
    }

    private void PollOom(ProcessCollector collector, OomWatcher oom, SpoolingProducer publisher)
    {
        _kills.Clear();
        oom.Poll(_cgroups, _kills);
        if (_kills.Count == 0) return;
        // An OOM kill is an error: its trace is kept whatever the ratio.
        using var span = BeginBatch(publisher, "process oom publish", keep: true);
        foreach (var kill in _kills)
        {
            var victim = kill.Pid is { } pid ? collector.Find(pid) : null;
            var document = _encoder.OomKill(kill, victim);
            _logger.LogWarning("{Message}", document.Message);
            PipelineMetrics.OomKills.WithLabels(kill.Source).Inc();
            publisher.Publish(SpoolKind.Oom, _key, EventSerializer.Serialize(document));
        }
        publisher.Headers = null;
    }
}
