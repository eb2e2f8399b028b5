using Pipeline.Plumbing.Telemetry;
using Streamiz.Kafka.Net.Processors.Public;

namespace Pipeline.Processors.Rules;

/// <summary>
/// Drops events whose window is already final (older than stream time minus window and grace) and
/// counts them, rather than letting them silently change nothing or reopen a closed window.
/// One instance per task, so stream time here is per partition, as in Streamiz itself.
/// </summary>
internal sealed class LateEventFilter : ITransformer<string, double, string, double>
{
    private readonly ThresholdRule rule;
    private long _streamTimeMs = long.MinValue;

    // See AlertEvaluator: Streamiz instantiates transformer types once with new() while building.
    public LateEventFilter() : this(null!) { }

    public LateEventFilter(ThresholdRule rule) => this.rule = rule;

    public void Init(ProcessorContext<string, double> context) { }

    public Record<string, double>? Process(Record<string, double> record)
    {
        long ts = record.Timestamp.UnixTimestampMs;
        if (ts > _streamTimeMs) _streamTimeMs = ts;
        long limit = _streamTimeMs - (long)(rule.Window + rule.Grace).TotalMilliseconds;
        if (ts < limit)
        {
            PipelineMetrics.LateEvents.WithLabels(rule.Name).Inc();
            return null;
        }
        return record;
    }

    public void Close() { }
}
