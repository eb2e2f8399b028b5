using Pipeline.Processors.Decoding;
using Streamiz.Kafka.Net.Processors.Public;

namespace Pipeline.Processors.Rules;

/// <summary>
/// The evaluator of a rule grouped by what its source's records are keyed by (host.name): it reads the filtered
/// events where they are, so its <c>where</c>, late check and sample run here, with no node or topic in between.
/// Run by <see cref="KeyedRulesEvaluator"/>, with the other such rules of its source.
/// </summary>
internal sealed class KeyedAlertEvaluator : AlertEvaluator<DecodedEvent>
{
    private LateEventGate _late;

    public KeyedAlertEvaluator(ThresholdRule rule, string processorHost, TimeSpan evaluationInterval, TimeProvider clock)
        : base(rule, processorHost, evaluationInterval, clock)
        => _late = new LateEventGate(rule);

    protected override bool TryTake(Record<string, DecodedEvent> record, out double sample)
    {
        sample = 0;
        var fields = record.Value.Fields;
        if (!rule.Where.Matches(fields) || !_late.Admits(record.Timestamp.UnixTimestampMs)) return false;
        sample = rule.Sample(fields);
        return true;
    }
}
