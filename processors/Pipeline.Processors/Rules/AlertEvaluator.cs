using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Streamiz.Kafka.Net.Processors.Public;

namespace Pipeline.Processors.Rules;

/// <summary>
/// A rule's windows and alert state, in one Streamiz node: it adds each sample to the group's open windows (one for
/// a tumbling window, window/every for a hopping one, epoch-aligned as Streamiz's), and turns the windows into alert
/// state changes, once each: firing when the condition starts to hold (and has held for <c>for</c>), resolved when it
/// stops. A window is final once its end plus the grace period has passed on the wall clock, so a group that went
/// quiet still resolves: Streamiz's stream time only moves with new records, hence the wall-clock punctuation.
/// The windows live here rather than in a Streamiz windowed aggregate: that would cost two more nodes and a
/// changelog record per event, where this writes each changed group once per commit (<see cref="PersistOnFlushStore"/>).
/// </summary>
internal abstract class AlertEvaluator<TValue> : ITransformer<string, TValue, string, byte[]>
{
    protected readonly ThresholdRule rule;
    private readonly string processorHost;
    private readonly TimeSpan evaluationInterval;
    private readonly TimeProvider clock;
    private readonly Dictionary<string, AlertState> _groups = new(StringComparer.Ordinal);
    // Groups changed by records since they were last written: written once per commit or evaluation, whichever
    // comes first, instead of once per event, which would put a changelog record behind every event.
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly List<long> _closing = [];
    private readonly long _windowMs;
    private readonly long _everyMs;
    private readonly long _graceMs;
    private ProcessorContext<string, byte[]>? _context;
    private Confluent.Kafka.Headers? _cause;
    private PersistOnFlushStore? _store;

    protected AlertEvaluator(ThresholdRule rule, string processorHost, TimeSpan evaluationInterval, TimeProvider clock)
    {
        this.rule = rule;
        this.processorHost = processorHost;
        this.evaluationInterval = evaluationInterval;
        this.clock = clock;
        if (rule is null) return;
        _windowMs = (long)rule.Window.TotalMilliseconds;
        _everyMs = (long)rule.Every.TotalMilliseconds;
        _graceMs = (long)rule.Grace.TotalMilliseconds;
    }

    /// <summary>The number this record adds to its group's windows (its group is the record key), or false to skip it.</summary>
    protected abstract bool TryTake(Record<string, TValue> record, out double sample);

    public void Init(ProcessorContext<string, byte[]> context)
    {
        _context = context;
        _store = (PersistOnFlushStore)((Streamiz.Kafka.Net.ProcessorContext)context).GetStateStore(rule.StateStoreName);
        _store.BeforeFlush = PersistDirty;
        context.Schedule(evaluationInterval, PunctuationType.PROCESSING_TIME, Evaluate);
    }

    private bool _loaded;

    /// <summary>
    /// Reads the groups from the store, once, when the task runs. Streamiz initialises a task's processors (and starts
    /// their wall-clock punctuation) before it restores the task's stores from their changelogs, which can take several
    /// turns of the stream thread; read then, the store holds part of the state or none, and what it held after would
    /// never be seen. Records reach a task only once it is restored, so a record may always load; a punctuation only
    /// once <see cref="StreamizTask.IsRunning"/> says so.
    /// </summary>
    private bool EnsureLoaded(bool byRecord)
    {
        if (_loaded) return true;
        if (!byRecord && !StreamizTask.IsRunning(_context!)) return false;
        _loaded = true;
        foreach (var kv in _store!.All())
        {
            var state = AlertStateFormat.Deserialize(kv.Value);
            if (state is null || _groups.ContainsKey(kv.Key)) continue;
            _groups[kv.Key] = state;
            if (state.Firing) PipelineMetrics.AlertsFiring.WithLabels(rule.Name).Inc();
        }
        return true;
    }

    public Record<string, byte[]>? Process(Record<string, TValue> record)
    {
        if (!TryTake(record, out double sample)) return null;
        EnsureLoaded(byRecord: true);
        var group = record.Key;
        long ts = record.Timestamp.UnixTimestampMs;
        var state = GetOrAdd(group);
        var now = clock.GetUtcNow();
        // An alert raised by this record continues the trace of the event that tipped the window.
        _cause = record.Headers;
        state.LastSeenMs = Math.Max(state.LastSeenMs, ts);
        if (rule.IsAbsent)
        {
            // A sign of life: an absent alert resolves at once.
            if (state.Firing) return Save(group, state, Transition(group, state, firing: false, 0, now));
            return Save(group, state, null);
        }
        Record<string, byte[]>? output = null;
        // The windows that contain ts start at multiples of `every` in (ts - window, ts].
        for (long start = ts - Mod(ts, _everyMs); start > ts - _windowMs; start -= _everyMs)
        {
            long end = start + _windowMs;
            if (end <= state.LastClosedEndMs) continue; // window already final; late update ignored
            ref var window = ref CollectionsMarshal.GetValueRefOrAddDefault(state.Open, start, out bool exists);
            window = (exists ? window : WindowAggregate.Empty).Add(sample);
            if (!rule.FiresEarly) continue;
            double value = rule.ValueOf(window);
            if (!rule.Holds(value)) continue;
            // Count-like aggregates only grow within a window: once over the threshold, it holds.
            state.LastHoldingEndMs = Math.Max(state.LastHoldingEndMs, end);
            output ??= Holding(group, state, value, now);
        }
        return Save(group, state, output);
    }

    private static long Mod(long value, long divisor)
    {
        long m = value % divisor;
        return m < 0 ? m + divisor : m;
    }

    /// <summary>Writes the groups changed since they were last written: before every commit (see <see cref="PersistOnFlushStore"/>).</summary>
    private void PersistDirty()
    {
        foreach (var group in _dirty)
        {
            if (_groups.TryGetValue(group, out var state)) Persist(group, state);
        }
        _dirty.Clear();
    }

    /// <summary>Wall-clock check: finalise windows, resolve quiet groups, apply <c>for</c> and <c>repeat_interval</c>.</summary>
    private void Evaluate(long punctuationMs)
    {
        if (!EnsureLoaded(byRecord: false)) return; // restoring: nothing to evaluate yet
        _cause = null; // the wall clock, not a record, decides here: such alerts start their own trace
        var now = clock.GetUtcNow();
        long nowMs = Math.Max(punctuationMs, now.ToUnixTimeMilliseconds());
        now = DateTimeOffset.FromUnixTimeMilliseconds(nowMs);
        List<string>? forget = null;
        foreach (var (group, state) in _groups)
        {
            bool changed = rule.IsAbsent ? EvaluateAbsent(group, state, nowMs, now) : EvaluateWindows(group, state, nowMs, now);
            if (state.Firing && rule.RepeatInterval > TimeSpan.Zero && now - state.LastAnnounced >= rule.RepeatInterval)
            {
                Forward(Announce(group, state, AlertStatus.Firing, state.HoldingValue, now));
                changed = true;
            }
            if (changed || _dirty.Contains(group)) Persist(group, state);
            if (!state.Firing && state.HoldingSince is null && state.Open.Count == 0 && nowMs - Math.Max(state.LastSeenMs, state.LastClosedEndMs) > 10 * _windowMs + _graceMs)
                (forget ??= []).Add(group);
        }
        _dirty.Clear();
        // Forget groups that went quiet long ago, so memory follows the active groups only.
        if (forget is not null)
        {
            foreach (var g in forget)
            {
                _groups.Remove(g);
                _store!.Delete(g);
            }
        }
    }

    private bool EvaluateWindows(string group, AlertState state, long nowMs, DateTimeOffset now)
    {
        bool changed = false;
        if (state.Open.Count > 0)
        {
            // Oldest first: windows that end later may still be open (and hopping windows overlap).
            _closing.Clear();
            foreach (var start in state.Open.Keys)
            {
                if (nowMs >= start + _windowMs + _graceMs) _closing.Add(start);
            }
            if (_closing.Count > 1) _closing.Sort();
            foreach (var start in _closing)
            {
                long end = start + _windowMs;
                state.Open.Remove(start, out var window);
                double final = rule.ValueOf(window);
                state.LastClosedEndMs = Math.Max(state.LastClosedEndMs, end);
                changed = true;
                if (rule.Holds(final))
                {
                    state.LastHoldingEndMs = Math.Max(state.LastHoldingEndMs, end);
                    Forward(Holding(group, state, final, now));
                }
                else if (end >= state.LastHoldingEndMs)
                {
                    Forward(NotHolding(group, state, final, now));
                }
            }
        }
        // Quiet group: the window after the last one that held has ended with no event at all, so its
        // value is that of an empty window (0 for every aggregate).
        if ((state.Firing || state.HoldingSince is not null) && state.Open.Count == 0 && state.LastHoldingEndMs != long.MinValue
            && nowMs >= state.LastHoldingEndMs + _everyMs + _graceMs && !rule.Holds(0))
        {
            Forward(NotHolding(group, state, 0, now));
            changed = true;
        }
        // `for`: fire once the condition has held long enough.
        if (!state.Firing && state.HoldingSince is { } since && now - since >= rule.For)
        {
            Forward(Transition(group, state, firing: true, state.HoldingValue, now));
            changed = true;
        }
        return changed;
    }

    private bool EvaluateAbsent(string group, AlertState state, long nowMs, DateTimeOffset now)
    {
        if (state.Firing || state.LastSeenMs == 0) return false;
        long silentMs = nowMs - state.LastSeenMs;
        if (silentMs < _windowMs + _graceMs) return false;
        state.HoldingSince ??= now;
        if (now - state.HoldingSince.Value < rule.For) return true;
        Forward(Transition(group, state, firing: true, silentMs / 1000.0, now));
        return true;
    }

    private Record<string, byte[]>? Holding(string group, AlertState state, double value, DateTimeOffset now)
    {
        state.HoldingValue = value;
        if (state.Firing) return null;
        state.HoldingSince ??= now;
        if (now - state.HoldingSince.Value < rule.For) return null;
        return Transition(group, state, firing: true, value, now);
    }

    private Record<string, byte[]>? NotHolding(string group, AlertState state, double value, DateTimeOffset now)
    {
        state.HoldingSince = null;
        state.LastHoldingEndMs = long.MinValue;
        return state.Firing ? Transition(group, state, firing: false, value, now) : null;
    }

    private Record<string, byte[]> Transition(string group, AlertState state, bool firing, double value, DateTimeOffset now)
    {
        state.Firing = firing;
        if (firing)
        {
            state.FiringSince = now;
            PipelineMetrics.AlertsFiring.WithLabels(rule.Name).Inc();
        }
        else
        {
            state.HoldingSince = null;
            PipelineMetrics.AlertsFiring.WithLabels(rule.Name).Dec();
        }
        return Announce(group, state, firing ? AlertStatus.Firing : AlertStatus.Resolved, value, now);
    }

    private Record<string, byte[]> Announce(string group, AlertState state, string status, double value, DateTimeOffset now)
    {
        state.LastAnnounced = now;
        var groupValues = rule.GroupValues(group);
        var fingerprint = EventIds.FromParts("alert", rule.Name, group);
        bool repeat = status == AlertStatus.Firing && now != state.FiringSince;
        var alert = new AlertEvent
        {
            Timestamp = now,
            Event = new EventInfo
            {
                Kind = EventKinds.Alert,
                Dataset = "ops.alerts",
                Id = EventIds.FromParts(fingerprint, status, state.FiringSince.UtcTicks.ToString(CultureInfo.InvariantCulture),
                    repeat ? now.UtcTicks.ToString(CultureInfo.InvariantCulture) : ""),
                Severity = rule.Config.Severity switch { "critical" => 3, "warning" => 2, _ => 1 },
                Action = repeat ? "repeat" : null,
            },
            Host = new HostInfo { Name = groupValues.GetValueOrDefault("host.name") ?? processorHost },
            Alert = new AlertInfo
            {
                Name = rule.Name,
                Status = status,
                Severity = rule.Config.Severity,
                Fingerprint = fingerprint,
                Value = value,
                Threshold = rule.Threshold,
                Op = rule.IsAbsent ? ">=" : rule.Op,
                Window = rule.Config.Window,
                Source = rule.Config.Source,
                Group = groupValues,
                StartedAt = state.FiringSince,
            },
            Message = rule.Summarize(value, groupValues, resolved: status == AlertStatus.Resolved),
            Labels = rule.Config.Labels.Count > 0 ? rule.Config.Labels : null,
        };
        PipelineMetrics.Alerts.WithLabels(rule.Name, status).Inc();
        PipelineMetrics.EventsOut.WithLabels(ProcessorTopology.Stage, Schemas.Topics.TopicCatalog.Alerts.Name).Inc();
        return Record<string, byte[]>.Create(fingerprint, EventSerializer.Serialize(alert), TraceAlert(fingerprint, status));
    }

    /// <summary>
    /// An alert is always worth its trace: a kept span, child of the triggering record's trace when there is one, whose
    /// traceparent goes on the alert record so the sink's write of it joins the same trace. Null when tracing is off.
    /// </summary>
    private Confluent.Kafka.Headers? TraceAlert(string fingerprint, string status)
    {
        if (!PipelineTracing.Enabled) return null;
        PipelineTracing.TryExtract(_cause, out var parent);
        using var span = PipelineTracing.StartKept("processors alert", ActivityKind.Internal, "alert", parent);
        span?.SetTag("alert.name", rule.Name);
        span?.SetTag("alert.status", status);
        span?.SetTag("alert.fingerprint", fingerprint);
        return PipelineTracing.HeadersFor(span);
    }

    private void Forward(Record<string, byte[]>? record)
    {
        if (record is null) return;
        // Punctuation has no record of its own: the alert's traceparent is set on the context the sink node reads.
        if (record.Headers is not null) _context!.SetHeaders(record.Headers);
        _context!.Forward(record.Key, record.Value);
    }

    private Record<string, byte[]>? Save(string group, AlertState state, Record<string, byte[]>? output)
    {
        // A state change that produced an alert is stored at once, so the alert and the state that
        // explains it are committed together; other updates wait for the next punctuation.
        if (output is not null) Persist(group, state);
        else _dirty.Add(group);
        return output;
    }

    private void Persist(string group, AlertState state)
        => _store!.Put(group, AlertStateFormat.Serialize(state));

    private AlertState GetOrAdd(string group)
    {
        if (!_groups.TryGetValue(group, out var state)) _groups[group] = state = new AlertState();
        return state;
    }

    public void Close() { }
}
