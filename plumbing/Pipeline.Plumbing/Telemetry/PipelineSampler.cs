using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// Parent-based ratio sampling with keep rules. A span with a parent follows the parent's decision; a root span is
/// sampled at the configured ratio (by trace id, so every stage agrees). A span started with <c>pipeline.keep</c>
/// (an alert, a dead letter) is always sampled.
/// </summary>
/// <remarks>
/// Keeping a trace "whose batch carried an error" is tail sampling, but head sampling decides at the span's start,
/// before the producer has read the batch. So a span that loses the draw is not dropped but recorded (RecordOnly):
/// it costs one Activity per batch, never one per event. If the batch turns out to carry an error,
/// <see cref="PipelineTracing.Keep"/> sets its sampled flag and the exporter takes it at its end; the records sent
/// from then on carry a sampled <c>traceparent</c>, so the processors and sinks keep their part of the trace too.
/// Spans that stay unsampled are never exported, and no header is written for them.
/// </remarks>
public sealed class PipelineSampler : Sampler
{
    private static readonly SamplingResult Sample = new(SamplingDecision.RecordAndSample);
    private static readonly SamplingResult RecordOnly = new(SamplingDecision.RecordOnly);

    private readonly TraceIdRatioBasedSampler _ratio;

    public PipelineSampler(double ratio)
    {
        Ratio = ratio;
        _ratio = new TraceIdRatioBasedSampler(ratio);
        Description = $"PipelineSampler{{ratio={ratio}, keep on pipeline.keep}}";
    }

    public double Ratio { get; }

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        if (samplingParameters.Tags is { } tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == PipelineTracing.KeepTag && tag.Value is true) return Sample;
            }
        }
        var parent = samplingParameters.ParentContext;
        if (parent.TraceId != default)
            return (parent.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? Sample : RecordOnly;
        return _ratio.ShouldSample(samplingParameters).Decision == SamplingDecision.RecordAndSample ? Sample : RecordOnly;
    }
}
