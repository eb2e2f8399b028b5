using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.State;

namespace Pipeline.Processors.Rules;

/// <summary>
/// Turns a rule's windowed aggregates into alert state changes. Fires when a window's value crosses
/// the threshold (at once for count/sum/max above a threshold, else when the window closes) and
/// resolves once a later window has closed without crossing it, including a window with no events,
/// which only a wall-clock check can see: hence the punctuation.
/// </summary>
internal sealed class AlertEvaluator : ITransformer<Windowed<string>, WindowAggregate, string, byte[]>
{
    private readonly ThresholdRule rule;
    private readonly string processorHost;
    private readonly TimeSpan evaluationInterval;
    private readonly TimeProvider clock;

    // Streamiz's TransformerBuilder demands new() and instantiates the type once while building the
    // topology; the running instances come from the constructor below, with the parameters given to it.
    public AlertEvaluator() : this(null!, null!, default, TimeProvider.System) { }

    public AlertEvaluator(ThresholdRule rule, string processorHost, TimeSpan evaluationInterval, TimeProvider clock)
    {
        this.rule = rule;
        this.processorHost = processorHost;
        this.evaluationInterval = evaluationInterval;
        this.clock = clock;
        _windowMs = rule is null ? 0 : (long)rule.Window.TotalMilliseconds;
    }

    // Records for a window may still arrive a little after it ends (producer batching, clock skew).
    private static readonly long GraceMs = 1000;

    private readonly Dictionary<string, GroupState> _groups = new(StringComparer.Ordinal);
    private readonly long _windowMs;
    private ProcessorContext<string, byte[]>? _context;

    private sealed class GroupState
    {
        public bool Firing;
        public DateTimeOffset FiringSince;
        public long LatestWindowStart = long.MinValue;
        public double LatestValue;
        public bool LatestClosed;
        public long LastHoldingWindowEnd = long.MinValue;
        public double LastHoldingValue;
    }

    public void Init(ProcessorContext<string, byte[]> context)
    {
        _context = context;
        context.Schedule(evaluationInterval, PunctuationType.PROCESSING_TIME, Evaluate);
    }

    public Record<string, byte[]>? Process(Record<Windowed<string>, WindowAggregate> record)
    {
        var group = record.Key.Key;
        long start = record.Key.Window.StartMs;
        var state = GetOrAdd(group);
        double value = record.Value.Value(rule.Aggregate.Function);
        if (start > state.LatestWindowStart)
        {
            state.LatestWindowStart = start;
            state.LatestClosed = false;
        }
        if (start == state.LatestWindowStart) state.LatestValue = value;
        if (rule.Holds(value) && rule.FiresEarly)
        {
            state.LastHoldingWindowEnd = Math.Max(state.LastHoldingWindowEnd, start + _windowMs);
            state.LastHoldingValue = value;
            if (!state.Firing) return Transition(group, state, firing: true, value);
        }
        return null;
    }

    /// <summary>Wall-clock check: close windows that ended and resolve groups whose condition stopped holding.</summary>
    private void Evaluate(long nowMs)
    {
        nowMs = Math.Max(nowMs, clock.GetUtcNow().ToUnixTimeMilliseconds());
        List<string>? idle = null;
        foreach (var (group, state) in _groups)
        {
            long latestEnd = state.LatestWindowStart + _windowMs;
            if (!state.LatestClosed && nowMs >= latestEnd + GraceMs)
            {
                state.LatestClosed = true;
                bool holds = rule.Holds(state.LatestValue);
                if (holds)
                {
                    state.LastHoldingWindowEnd = Math.Max(state.LastHoldingWindowEnd, latestEnd);
                    state.LastHoldingValue = state.LatestValue;
                    if (!state.Firing) Forward(Transition(group, state, firing: true, state.LatestValue));
                }
                else if (state.Firing)
                {
                    Forward(Transition(group, state, firing: false, state.LatestValue));
                }
            }
            // No events at all since the last window that held: the window after it closed empty.
            if (state.Firing && nowMs >= state.LastHoldingWindowEnd + _windowMs + GraceMs && state.LatestWindowStart + _windowMs <= state.LastHoldingWindowEnd)
            {
                // An empty window aggregates to 0 for every function.
                if (!rule.Holds(0)) Forward(Transition(group, state, firing: false, 0));
            }
            if (!state.Firing && state.LatestClosed && nowMs >= latestEnd + 10 * _windowMs) (idle ??= []).Add(group);
        }
        // Forget groups that went quiet long ago, so memory follows the active groups only.
        if (idle is not null) foreach (var g in idle) _groups.Remove(g);
    }

    private void Forward(Record<string, byte[]>? record)
    {
        if (record is not null) _context!.Forward(record.Key, record.Value);
    }

    private Record<string, byte[]> Transition(string group, GroupState state, bool firing, double value)
    {
        var now = clock.GetUtcNow();
        state.Firing = firing;
        if (firing) state.FiringSince = now;
        var status = firing ? AlertStatus.Firing : AlertStatus.Resolved;
        var groupValues = rule.GroupValues(group);
        var fingerprint = EventIds.FromParts("alert", rule.Name, group);
        var alert = new AlertEvent
        {
            Timestamp = now,
            Event = new EventInfo
            {
                Kind = EventKinds.Alert,
                Dataset = "ops.alerts",
                Id = EventIds.FromParts(fingerprint, status, state.FiringSince.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                Severity = rule.Config.Severity switch { "critical" => 3, "warning" => 2, _ => 1 },
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
                Op = rule.Op,
                Window = rule.Config.Window,
                Source = rule.Config.Source,
                Group = groupValues,
                StartedAt = state.FiringSince,
            },
            Message = rule.Summarize(value, groupValues, resolved: !firing),
            Labels = rule.Config.Labels.Count > 0 ? rule.Config.Labels : null,
        };
        PipelineMetrics.Alerts.WithLabels(rule.Name, status).Inc();
        if (firing) PipelineMetrics.AlertsFiring.WithLabels(rule.Name).Inc();
        else PipelineMetrics.AlertsFiring.WithLabels(rule.Name).Dec();
        PipelineMetrics.EventsOut.WithLabels(ProcessorTopology.Stage, Schemas.Topics.TopicCatalog.Alerts.Name).Inc();
        return Record<string, byte[]>.Create(fingerprint, EventSerializer.Serialize(alert));
    }

    private GroupState GetOrAdd(string group)
    {
        if (!_groups.TryGetValue(group, out var state)) _groups[group] = state = new GroupState();
        return state;
    }

    public void Close() { }
}
