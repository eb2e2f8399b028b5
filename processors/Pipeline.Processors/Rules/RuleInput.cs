using Pipeline.Plumbing.Telemetry;
using Pipeline.Processors.Decoding;
using Streamiz.Kafka.Net.Processors.Public;

namespace Pipeline.Processors.Rules;

/// <summary>
/// What a rule aggregates from each event its <c>where</c> matched, in one Streamiz node: the number its aggregate
/// consumes, keyed by its group, minus events whose window is already final (older than stream time minus window and
/// grace; dropped and counted rather than letting them silently change nothing or reopen a closed window). One node
/// instead of a re-key, a map and a late filter: every node a record crosses costs Streamiz's per-hop bookkeeping.
/// The <c>where</c> stays a Filter node before it: a filter forwards without building a record, and most events
/// match few rules. One instance per task, so stream time here is per partition, as in Streamiz itself.
/// </summary>
internal sealed class RuleInput : ITransformer<string, DecodedEvent, string, double>
{
    private readonly ThresholdRule rule;
    // How far behind stream time an event's window is final: fixed per rule, so not recomputed per event.
    private readonly long _finalAfterMs;
    private long _streamTimeMs = long.MinValue;

    // See AlertEvaluator: Streamiz instantiates transformer types once with new() while building.
    public RuleInput() : this(null!) { }

    public RuleInput(ThresholdRule rule)
    {
        this.rule = rule;
        if (rule is not null) _finalAfterMs = (long)(rule.Window + rule.Grace).TotalMilliseconds;
    }

    public void Init(ProcessorContext<string, double> context) { }

    public Record<string, double>? Process(Record<string, DecodedEvent> record)
    {
        long ts = record.Timestamp.UnixTimestampMs;
        if (ts > _streamTimeMs) _streamTimeMs = ts;
        if (ts < _streamTimeMs - _finalAfterMs)
        {
            PipelineMetrics.LateEvents.WithLabels(rule.Name).Inc();
            return null;
        }
        // A rule grouped by the record key keeps it (and aggregates in place); any other is re-keyed by its group.
        var fields = record.Value.Fields;
        var key = rule.GroupsByRecordKey ? record.Key : rule.GroupKey(fields);
        return Record<string, double>.Create(key, rule.Sample(fields), record.Headers);
    }

    public void Close() { }
}
