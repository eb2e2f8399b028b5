using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;

namespace Pipeline.Processors.Rules;

/// <summary>
/// Turns a rule's windowed aggregates into alert state changes, once each: firing when the condition
/// starts to hold (and has held for <c>for</c>), resolved when it stops. A window is final once its
/// end plus the grace period has passed on the wall clock, so a group that went quiet still resolves:
/// Streamiz's stream time only moves with new records, hence the wall-clock punctuation.
/// </summary>
internal sealed class AlertEvaluator : ITransformer<Windowed<string>, WindowAggregate, string, byte[]>
{
    private readonly ThresholdRule rule;
    private readonly string processorHost;
    private readonly TimeSpan evaluationInterval;
    private readonly TimeProvider clock;
    private readonly Dictionary<string, AlertState> _groups = new(StringComparer.Ordinal);
    // Groups changed by records since the last punctuation: written to the store once per evaluation
    // interval instead of once per event, which would put a changelog record behind every event.
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly long _windowMs;
    private readonly long _everyMs;
    private readonly long _graceMs;
    private ProcessorContext<string, byte[]>? _context;
    private Confluent.Kafka.Headers? _cause;
    private IKeyValueStore<string, byte[]>? _store;

    // Streamiz's TransformerBuilder demands new() and instantiates the type once while building the
    // topology; the running instances come from the constructor below, with the parameters given to it.
    public AlertEvaluator() : this(null!, null!, default, TimeProvider.System) { }

    public AlertEvaluator(ThresholdRule rule, string processorHost, TimeSpan evaluationInterval, TimeProvider clock)
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

    public static string StoreName(ThresholdRule rule) => $"{rule.StoreName}-state";

    public void Init(ProcessorContext<string, byte[]> context)
    {
        _context = context;
        _store = (IKeyValueStore<string, byte[]>)((Streamiz.Kafka.Net.ProcessorContext)context).GetStateStore(StoreName(rule));
        context.Schedule(evaluationInterval, PunctuationType.PROCESSING_TIME, Evaluate);
    }

    private bool _loaded;

    // The store is restored from its changelog after Init, so it is read on first use, when the task runs.
    private void EnsureLoaded()
    {
        if (_loaded) return;
        _loaded = true;
        foreach (var kv in _store!.All())
        {
            var state = JsonSerializer.Deserialize(kv.Value, AlertStateJsonContext.Default.AlertState);
            if (state is null || _groups.ContainsKey(kv.Key)) continue;
            _groups[kv.Key] = state;
            if (state.Firing) PipelineMetrics.AlertsFiring.WithLabels(rule.Name).Inc();
        }
    }

    public Record<string, byte[]>? Process(Record<Windowed<string>, WindowAggregate> record)
    {
        EnsureLoaded();
        var group = record.Key.Key;
        long start = record.Key.Window.StartMs;
        var state = GetOrAdd(group);
        var now = clock.GetUtcNow();
        // An alert raised by this record continues the trace of the event that tipped the window.
        _cause = record.Headers;
        state.LastSeenMs = Math.Max(state.LastSeenMs, record.Timestamp.UnixTimestampMs);
        if (rule.IsAbsent)
        {
            // A sign of life: an absent alert resolves at once.
            if (state.Firing) return Save(group, state, Transition(group, state, firing: false, 0, now));
            return Save(group, state, null);
        }
        if (start + _windowMs <= state.LastClosedEndMs) return null; // window already final; late update ignored
        double value = rule.ValueOf(record.Value);
        state.Open[start] = value;
        Record<string, byte[]>? output = null;
        if (rule.FiresEarly && rule.Holds(value))
        {
            // Count-like aggregates only grow within a window: once over the threshold, it holds.
            state.LastHoldingEndMs = Math.Max(state.LastHoldingEndMs, start + _windowMs);
            output = Holding(group, state, value, now);
        }
        return Save(group, state, output);
    }

    /// <summary>Wall-clock check: finalise windows, resolve quiet groups, apply <c>for</c> and <c>repeat_interval</c>.</summary>
    private void Evaluate(long punctuationMs)
    {
        EnsureLoaded();
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
            foreach (var start in state.Open.Keys.Order().ToList())
            {
                long end = start + _windowMs;
                if (nowMs < end + _graceMs) break;
                double final = state.Open[start];
                state.Open.Remove(start);
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
        => _store!.Put(group, JsonSerializer.SerializeToUtf8Bytes(state, AlertStateJsonContext.Default.AlertState));

    private AlertState GetOrAdd(string group)
    {
        if (!_groups.TryGetValue(group, out var state)) _groups[group] = state = new AlertState();
        return state;
    }

    public void Close() { }
}
