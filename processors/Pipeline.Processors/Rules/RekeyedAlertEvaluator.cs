using Streamiz.Kafka.Net.Processors.Public;

namespace Pipeline.Processors.Rules;

/// <summary>The evaluator of a rule grouped by other fields: it reads its group's samples from the repartition topic.</summary>
internal sealed class RekeyedAlertEvaluator : AlertEvaluator<double>
{
    // Streamiz's TransformerBuilder demands new() and instantiates the type once while building the
    // topology; the running instances come from the constructor below, with the parameters given to it.
    public RekeyedAlertEvaluator() : this(null!, null!, default, TimeProvider.System) { }

    public RekeyedAlertEvaluator(ThresholdRule rule, string processorHost, TimeSpan evaluationInterval, TimeProvider clock)
        : base(rule, processorHost, evaluationInterval, clock) { }

    protected override bool TryTake(Record<string, double> record, out double sample)
    {
        sample = record.Value;
        return true;
    }
}
