using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Processors.Decoding;
using Pipeline.Processors.Filtering;
using Pipeline.Processors.Rules;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Kafka;
using Streamiz.Kafka.Net.SerDes;

namespace Pipeline.Processors;

/// <summary>Runs the <see cref="ProcessorTopology"/> as a Streamiz application for the life of the host.</summary>
public sealed class StreamProcessorService(PipelineConfig config, KafkaSettings kafka, ILoggerFactory loggerFactory) : IHostedService, IDisposable
{
    private static readonly TimeSpan DrainQuiet = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(10);
    /// <summary>How long a stalled stream may take to close before that is logged as critical.</summary>
    private static readonly TimeSpan StalledCloseLimit = TimeSpan.FromSeconds(30);

    private readonly ILogger _logger = loggerFactory.CreateLogger<StreamProcessorService>();
    private readonly ProcessorActivity _activity = new();
    private readonly LagReportingClientBuilder _clients = new();
    private readonly TimeSpan _stallTimeout = Duration.Parse(config.Processors.StallTimeout);
    // Start, the stall restart and stop each replace or close the stream: one at a time.
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private IReadOnlyList<ThresholdRule> _rules = [];
    private KafkaStream? _stream;
    private long _streamStartedTicks;
    private Task? _stallGuard;
    private bool _disposed;

    /// <summary>The live filter chains; <see cref="SourceFilterChains.Replace"/> swaps them on reload.</summary>
    public SourceFilterChains Chains { get; } = SourceFilterChains.From(config);

    /// <summary>The sources whose filtered events go to <c>&lt;topic&gt;.filtered</c>: those with a chain, when write_filtered is on.</summary>
    public static IReadOnlyCollection<Schemas.Topics.TopicSpec> FilteredSources(PipelineConfig config)
        => config.Processors.WriteFiltered
            ? config.Processors.Filters.Select(f => Schemas.Topics.TopicCatalog.Sources[f.Source]).Distinct().ToList()
            : [];

    public static IReadOnlyList<ThresholdRule> CompileRules(PipelineConfig config)
    {
        var grace = Duration.Parse(config.Processors.Grace);
        return BuiltInRules.Effective(config).Select(r => new ThresholdRule(r, grace)).ToList();
    }

    /// <summary>The stream's state (RUNNING between rebalances), and since when, for readiness checks and tests.</summary>
    public KafkaStream.State State { get; private set; } = KafkaStream.State.CREATED;

    public DateTime StateSince { get; private set; } = DateTime.UtcNow;

    /// <summary>How long ago the stream thread last polled (it reports every 5 s); null before it first has.</summary>
    public TimeSpan? SinceLastPoll => _clients.SinceLastPoll;

    /// <summary>How many times this service restarted its stream because the stream thread stopped polling.</summary>
    public int StallRestarts { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _rules = CompileRules(config);
        if (_rules.Count == 0 && FilteredSources(config).Count == 0)
        {
            _logger.LogWarning("no rules are enabled and no filtered topic is written: the processors have nothing to do");
            return;
        }
        if (kafka.Embedded && config.Processors.Guarantee == "exactly_once")
        {
            // Measured, and pinned by EmbeddedBrokerTests: the mock answers TxnOffsetCommit without storing it.
            _logger.LogWarning("processors.guarantee = \"exactly_once\" is not kept on the embedded broker: it does not store transactional offset commits, " +
                "so after a rebalance (a second instance joining or leaving) or a restart the processors read their sources from the beginning again " +
                "and count what their state already holds. Use a real Kafka for exactly_once, or \"at_least_once\" here");
        }
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StartStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
        _logger.LogInformation("processors started: {Count} rule(s): {Rules}", _rules.Count, string.Join(", ", _rules.Select(r => r.Name)));
        if (_stallTimeout > TimeSpan.Zero) _stallGuard = GuardAgainstStallsAsync(_stopping.Token);
    }

    private async Task StartStreamAsync(CancellationToken cancellationToken)
    {
        // Built anew for each stream: a topology holds the processor instances of the stream it ran in.
        var topology = ProcessorTopology.Build(_rules, new ProcessorTopology.Options(
            config.Processors.ApplicationId, config.EffectiveHostName, Duration.Parse(config.Processors.EvaluationInterval), _activity, TimeProvider.System)
        {
            Filters = Chains,
            WriteFiltered = FilteredSources(config),
            Logger = _logger,
        });
        var streamConfig = StreamConfig(config, kafka, loggerFactory);
        var stream = new KafkaStream(topology, streamConfig, new DefaultKafkaClientSupplier(new KafkaLoggerAdapter(streamConfig), streamConfig, _clients));
        stream.StateChanged += (from, to) =>
        {
            (State, StateSince) = (to, DateTime.UtcNow);
            if (to == KafkaStream.State.ERROR) _logger.LogError("stream processors failed ({From} -> {To}); see the errors above", from, to);
            else _logger.LogInformation("stream processors: {State}", to);
        };
        _stream = stream;
        Volatile.Write(ref _streamStartedTicks, Environment.TickCount64);
        await stream.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Restarts the stream when its thread stops polling while the stream says it runs. Streamiz 1.8.2 does this after a
    /// commit refused mid-rebalance (another instance leaving): it logs "thread is being fenced", closes its tasks, and
    /// its loop then only sleeps, waiting for a rebalance flag that is never cleared (seen in a thread dump), while the
    /// stream still reports RUNNING and no partition it held is processed. A new stream rejoins the group and resumes
    /// from the committed offsets, with its state restored from the changelogs.
    /// </summary>
    private async Task GuardAgainstStallsAsync(CancellationToken stopping)
    {
        var period = TimeSpan.FromSeconds(1);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await Task.Delay(period, stopping).ConfigureAwait(false);
                if (_stream is null || (State != KafkaStream.State.RUNNING && State != KafkaStream.State.REBALANCING)) continue;
                // Before its first report, the thread is measured from the stream's start.
                var silent = _clients.SinceLastPoll ?? TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _streamStartedTicks));
                if (silent < _stallTimeout) continue;
                if (!await RestartStalledAsync(silent, stopping).ConfigureAwait(false)) return;
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _logger.LogCritical(e, "restarting the stalled stream failed; no stream runs now, and the watchdog restarts the process");
        }
    }

    /// <returns>False when stopping interrupted the restart.</returns>
    private async Task<bool> RestartStalledAsync(TimeSpan silent, CancellationToken stopping)
    {
        await _lifecycle.WaitAsync(stopping).ConfigureAwait(false);
        try
        {
            var stalled = _stream;
            if (stalled is null) return true;
            StallRestarts++;
            PipelineMetrics.StreamRestarts.WithLabels("stalled").Inc();
            _logger.LogError("the stream thread has not polled Kafka for {Silent:0}s while the stream reports {State} (processors.stall_timeout = {Timeout}): " +
                "its partitions are not being processed. Restarting the stream; it resumes from the last committed offsets",
                silent.TotalSeconds, State, config.Processors.StallTimeout);
            _stream = null;
            var close = Task.Run(stalled.Dispose, CancellationToken.None);
            if (await Task.WhenAny(close, Task.Delay(StalledCloseLimit, stopping)).ConfigureAwait(false) != close)
            {
                if (stopping.IsCancellationRequested) return false; // shutting down: the host's stop takes it from here
                // Not another stream beside it: the stuck one still holds its partitions in the group. Its close was
                // seen to take longer than this under load; if it never ends, the heartbeat stays silent and the service
                // manager's watchdog (WatchdogSec) restarts the process.
                _logger.LogCritical("the stalled stream has not closed within {Limit}s; waiting for it before starting another (the watchdog restarts the process if it never does)",
                    StalledCloseLimit.TotalSeconds);
                await Task.WhenAny(close).WaitAsync(stopping).ConfigureAwait(false);
                _logger.LogWarning("the stalled stream closed after all; starting a new one");
            }
            if (close.IsFaulted)
                _logger.LogWarning(close.Exception.GetBaseException(), "closing the stalled stream failed; starting a new one anyway");
            _clients.ForgetAll();
            await StartStreamAsync(stopping).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_stallGuard is not null)
        {
            try { await _stallGuard.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_stream is null) return;
            // Let records already in the source topics through before closing (the embedded broker forgets them at exit).
            var deadline = DateTime.UtcNow + DrainLimit;
            while (_activity.IdleFor < DrainQuiet && DateTime.UtcNow < deadline)
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            _stream.Dispose();
            _stream = null;
            _clients.ForgetAll();
            _logger.LogInformation("processors stopped");
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    public static StreamConfig<StringSerDes, ByteArraySerDes> StreamConfig(PipelineConfig config, KafkaSettings kafka, ILoggerFactory loggerFactory)
    {
        var c = new StreamConfig<StringSerDes, ByteArraySerDes>
        {
            ApplicationId = config.Processors.ApplicationId,
            BootstrapServers = kafka.Bootstrap,
            ClientId = $"{kafka.Config.ClientId}-processors",
            Guarantee = config.Processors.Guarantee == "exactly_once" ? ProcessingGuarantee.EXACTLY_ONCE : ProcessingGuarantee.AT_LEAST_ONCE,
            CommitIntervalMs = 1000,
            StateDir = Path.Combine(config.DataDir, "streams"),
            AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest,
            Logger = loggerFactory,
        };
        if (kafka.Embedded)
        {
            c.FetchWaitMaxMs = 10;
            // Streamiz polls every 100 ms by default, paid on each hop (the source, and the repartition topic of a rule that re-keys):
            // 10 ms took alert latency from ~320 to ~120 ms here, for ~5% of a core more when idle.
            c.PollMs = 10;
            c.SessionTimeoutMs = 6000;
            c.HeartbeatIntervalMs = 1000;
        }
        // Streamiz maps known keys onto typed properties, so security settings are set through them.
        var k = kafka.Config;
        if (k.SecurityProtocol != "PLAINTEXT")
        {
            c.SecurityProtocol = Enum.Parse<Confluent.Kafka.SecurityProtocol>(k.SecurityProtocol.Replace("_", "", StringComparison.Ordinal), ignoreCase: true);
            c.SslEndpointIdentificationAlgorithm = k.SslEndpointIdentificationAlgorithm == "none"
                ? Confluent.Kafka.SslEndpointIdentificationAlgorithm.None : Confluent.Kafka.SslEndpointIdentificationAlgorithm.Https;
        }
        if (k.SaslMechanism.Length > 0)
        {
            c.SaslMechanism = Enum.Parse<Confluent.Kafka.SaslMechanism>(k.SaslMechanism.Replace("-", "", StringComparison.Ordinal), ignoreCase: true);
            if (k.SaslUsername.Length > 0) c.SaslUsername = k.SaslUsername;
            if (k.SaslPassword.Length > 0) c.SaslPassword = k.SaslPassword;
        }
        if (k.SslCaLocation.Length > 0) c.SslCaLocation = k.SslCaLocation;
        if (k.SslCertificateLocation.Length > 0) c.SslCertificateLocation = k.SslCertificateLocation;
        if (k.SslKeyLocation.Length > 0) c.SslKeyLocation = k.SslKeyLocation;
        foreach (var (key, value) in k.Properties) c.AddConfig(key, value);
        return c;
    }

    // The host disposes it once as a hosted service and once as a singleton: the second call does nothing.
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stopping.Cancel();
        try
        {
            _stallGuard?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The guard ends by cancellation; anything else it met was logged where it happened.
        }
        _stream?.Dispose();
        _stream = null;
        _stopping.Dispose();
        _lifecycle.Dispose();
    }
}
