using Pipeline.Processors.Decoding;
using Streamiz.Kafka.Net.Processors.Public;

namespace Pipeline.Processors.Rules;

/// <summary>
/// For a rule that groups by something other than the record key: what it aggregates from each event its <c>where</c>
/// matched, keyed by its group, for the repartition topic that brings each group to one task. Late events are dropped
/// here, before they cost a repartition record. One node instead of a re-key, a map and a late filter: every node a
/// record crosses costs Streamiz's per-hop bookkeeping.
/// </summary>
internal sealed class RuleInput : ITransformer<string, DecodedEvent, string, double>
{
    private readonly ThresholdRule rule;
    private LateEventGate _late;

    // See RekeyedAlertEvaluator: Streamiz instantiates transformer types once with new() while building.
    public RuleInput() : this(null!) { }

    public RuleInput(ThresholdRule rule)
    {
        this.rule = rule;
        _late = new LateEventGate(rule);
    }

    public void Init(ProcessorContext<string, double> context) { }

    public Record<string, double>? Process(Record<string, DecodedEvent> record)
    {
        if (!_late.Admits(record.Timestamp.UnixTimestampMs)) return null;
        var fields = record.Value.Fields;
        return Record<string, double>.Create(rule.GroupKey(fields), rule.Sample(fields), record.Headers);
    }

    public void Close() { }
}
