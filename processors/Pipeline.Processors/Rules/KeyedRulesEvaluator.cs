using Pipeline.Processors.Decoding;
using Streamiz.Kafka.Net.Processors.Public;

namespace Pipeline.Processors.Rules;

/// <summary>
/// Every rule of a source that groups by the record key, in one Streamiz node: each event is offered to each rule's
/// evaluator in turn. One node rather than one per rule, because every node an event crosses costs Streamiz's per-hop
/// forwarding, and most events match few rules. Each rule keeps its own store, changelog and wall-clock evaluation.
/// </summary>
internal sealed class KeyedRulesEvaluator : ITransformer<string, DecodedEvent, string, byte[]>
{
    private readonly KeyedAlertEvaluator[] _evaluators;
    private ProcessorContext<string, byte[]>? _context;

    // Streamiz's TransformerBuilder demands new() and instantiates the type once while building the
    // topology; the running instances come from the constructor below, with the parameters given to it.
    public KeyedRulesEvaluator() : this([], null!, default, TimeProvider.System) { }

    public KeyedRulesEvaluator(ThresholdRule[] rules, string processorHost, TimeSpan evaluationInterval, TimeProvider clock)
    {
        _evaluators = new KeyedAlertEvaluator[rules.Length];
        for (int i = 0; i < rules.Length; i++) _evaluators[i] = new KeyedAlertEvaluator(rules[i], processorHost, evaluationInterval, clock);
    }

    public void Init(ProcessorContext<string, byte[]> context)
    {
        _context = context;
        foreach (var evaluator in _evaluators) evaluator.Init(context);
    }

    public Record<string, byte[]>? Process(Record<string, DecodedEvent> record)
    {
        if (record.Value.IsDeadLetter) return null; // on its way to the dead-letter topic
        foreach (var evaluator in _evaluators)
        {
            var alert = evaluator.Process(record);
            if (alert is null) continue;
            // As Streamiz's own transformer node does with a returned record: its headers, then forward.
            _context!.SetHeaders(alert.Headers);
            _context.Forward(alert.Key, alert.Value);
        }
        return null;
    }

    public void Close()
    {
        foreach (var evaluator in _evaluators) evaluator.Close();
    }
}
