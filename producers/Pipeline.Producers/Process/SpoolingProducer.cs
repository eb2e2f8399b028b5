using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Telemetry;

namespace Pipeline.Producers.Process;

/// <summary>
/// Sends records to one topic, and to a <see cref="DiskSpool"/> while Kafka cannot take them.
/// While Kafka answers, records go straight to the producer. The first failed delivery switches to
/// spooling: the failed record and everything after it go to the spool, in order (records produced
/// meanwhile are held in memory until every earlier delivery has resolved, so none overtakes an
/// older one). The spool is then replayed in batches, oldest first, each batch acknowledged before the
/// next; when it is empty, records go straight to Kafka again.
/// Not thread-safe: <see cref="Publish"/> and <see cref="Pump"/> run on the owner's thread; delivery
/// reports only post to a queue that <see cref="Pump"/> drains.
/// </summary>
public sealed class SpoolingProducer
{
    private const int ReplayBatch = 1000;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    private readonly IProducer<byte[], byte[]> _producer;
    private readonly DiskSpool _spool;
    private readonly string _topic;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<Outcome> _outcomes = new();
    private readonly SortedDictionary<long, Pending> _inflight = [];
    private readonly List<Pending> _held = [];
    private readonly List<SpoolRecord> _replay = [];
    private readonly Prometheus.Counter.Child _delivered;
    private readonly Prometheus.Counter.Child _failed;
    private long _nextId;
    private int _replayOutstanding;
    private bool _replayFailed;
    private long _replayAckedUpTo;
    private long _replayed;
    private TimeSpan _backoff = TimeSpan.FromMilliseconds(500);
    private DateTime _nextReplay = DateTime.MinValue;

    public SpoolingProducer(IProducer<byte[], byte[]> producer, DiskSpool spool, string topic, string stage, ILogger logger)
    {
        _producer = producer;
        _spool = spool;
        _topic = topic;
        _logger = logger;
        _delivered = PipelineMetrics.EventsOut.WithLabels(stage, topic);
        _failed = PipelineMetrics.DeliveryErrors.WithLabels(stage, topic);
        // Records spooled by an earlier run go first.
        Spooling = !spool.IsEmpty;
        if (Spooling) _logger.LogInformation("{Count} records spooled by an earlier run in {Directory}; replaying them first", spool.Count, spool.Directory);
    }

    /// <summary>True while records go to the spool (Kafka failed, or the spool is still being replayed).</summary>
    public bool Spooling { get; private set; }

    /// <summary>Records Kafka acknowledged, directly or from the spool.</summary>
    public long Delivered { get; private set; }

    public DiskSpool Spool => _spool;

    /// <summary>
    /// Headers for the records published now (the batch's <c>traceparent</c>), or null. Records that go through the
    /// spool lose them: the trace of a batch Kafka could not take is not worth a spool format change.
    /// </summary>
    public Headers? Headers { get; set; }

    public void Publish(SpoolKind kind, byte[] key, byte[] value)
    {
        var pending = new Pending(kind, key, value);
        if (!Spooling)
        {
            if (TryProduce(pending)) return;
            EnterSpooling("the producer's queue is full");
        }
        if (_inflight.Count > 0) _held.Add(pending);
        else _spool.Append(kind, key, value);
    }

    /// <summary>Handles delivery reports and moves the spool along. Call often (every 100 ms or so) while <see cref="Spooling"/>.</summary>
    public void Pump()
    {
        while (_outcomes.TryDequeue(out var outcome))
        {
            if (outcome.FromSpool) OnReplayOutcome(outcome);
            else OnDirectOutcome(outcome);
        }
        if (!Spooling) return;
        if (_inflight.Count == 0 && _held.Count > 0)
        {
            foreach (var h in _held) _spool.Append(h.Kind, h.Key, h.Value);
            _held.Clear();
            _spool.Sync();
        }
        if (_inflight.Count == 0 && _replayOutstanding == 0) Replay();
    }

    /// <summary>On shutdown: waits for deliveries up to <paramref name="timeout"/>, then spools whatever Kafka has not acknowledged.</summary>
    public void Close(TimeSpan timeout)
    {
        _producer.Flush(timeout);
        Pump();
        if (_inflight.Count > 0 || _held.Count > 0)
        {
            // Unresolved deliveries may still arrive at Kafka; spooling them too can only duplicate, and
            // duplicates carry the same event.id, which Elasticsearch recognises.
            foreach (var p in _inflight.Values) _spool.Append(p.Kind, p.Key, p.Value);
            foreach (var h in _held) _spool.Append(h.Kind, h.Key, h.Value);
            _logger.LogWarning("{Count} process records were not acknowledged by Kafka before shutdown; they are spooled in {Directory}", _inflight.Count + _held.Count, _spool.Directory);
            _inflight.Clear();
            _held.Clear();
        }
        _spool.Sync();
    }

    private bool TryProduce(Pending pending)
    {
        long id = ++_nextId;
        try
        {
            _producer.Produce(_topic, new Message<byte[], byte[]> { Key = pending.Key, Value = pending.Value, Headers = Headers },
                report => _outcomes.Enqueue(new Outcome(id, false, report.Error.Code == ErrorCode.NoError, report.Error.Reason)));
        }
        catch (ProduceException<byte[], byte[]>)
        {
            return false;
        }
        catch (KafkaException)
        {
            return false;
        }
        _inflight[id] = pending;
        return true;
    }

    private void OnDirectOutcome(Outcome outcome)
    {
        if (!_inflight.Remove(outcome.Id, out var pending)) return;
        if (outcome.Ok)
        {
            Delivered++;
            _delivered.Inc();
            return;
        }
        _failed.Inc();
        if (!Spooling) EnterSpooling(outcome.Reason);
        // Reports for one partition arrive in production order, so failed records reach the spool in order.
        _spool.Append(pending.Kind, pending.Key, pending.Value);
    }

    private void OnReplayOutcome(Outcome outcome)
    {
        _replayOutstanding--;
        if (outcome.Ok)
        {
            Delivered++;
            _delivered.Inc();
            // Reports come in order: the records before the first failure are in Kafka and need not be sent again.
            if (!_replayFailed) _replayAckedUpTo = outcome.Id;
        }
        else
        {
            _failed.Inc();
            _replayFailed = true;
        }
        if (_replayOutstanding > 0) return;
        if (_replayFailed)
        {
            if (_replayAckedUpTo > 0) _spool.Acknowledge(_replayAckedUpTo);
            _spool.Rewind();
            _nextReplay = DateTime.UtcNow + _backoff;
            _backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, _backoff.Ticks * 2));
            _logger.LogWarning("Kafka still unreachable ({Reason}); {Count} process records wait in the spool ({Bytes} bytes)", outcome.Reason, _spool.Count, _spool.Bytes);
        }
        else
        {
            _replayed += _replay.Count;
            _spool.Acknowledge(_replay[^1].Sequence);
            _backoff = TimeSpan.FromMilliseconds(500);
        }
        _replay.Clear();
        _replayFailed = false;
        _replayAckedUpTo = 0;
    }

    private void Replay()
    {
        if (DateTime.UtcNow < _nextReplay) return;
        _spool.ReadNext(ReplayBatch, _replay);
        if (_replay.Count == 0)
        {
            Spooling = false;
            _logger.LogInformation("Kafka takes records again: {Count} spooled process records replayed in order", _replayed);
            _replayed = 0;
            return;
        }
        foreach (var record in _replay)
        {
            var message = new Message<byte[], byte[]> { Key = record.Key, Value = record.Value };
            while (true)
            {
                try
                {
                    long sequence = record.Sequence;
                    _producer.Produce(_topic, message, report => _outcomes.Enqueue(new Outcome(sequence, true, report.Error.Code == ErrorCode.NoError, report.Error.Reason)));
                    _replayOutstanding++;
                    break;
                }
                catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    Thread.Sleep(50); // delivery reports free the queue on the producer's own poll thread
                }
            }
        }
    }

    private void EnterSpooling(string reason)
    {
        Spooling = true;
        _logger.LogWarning("Kafka did not take a process record ({Reason}); spooling to {Directory} (at most {Max} bytes) until it does", reason, _spool.Directory, _spool.MaxBytes);
    }

    private sealed record Pending(SpoolKind Kind, byte[] Key, byte[] Value);

    /// <param name="Id">The in-flight id of a direct record, or the spool sequence of a replayed one.</param>
    private readonly record struct Outcome(long Id, bool FromSpool, bool Ok, string Reason);
}
