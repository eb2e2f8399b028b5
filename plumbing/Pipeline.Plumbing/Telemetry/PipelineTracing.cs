using System.Diagnostics;
using Confluent.Kafka;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// The pipeline's one <see cref="ActivitySource"/> and the W3C <c>traceparent</c> Kafka header that carries a trace
/// from the producer through the processors to the sink. One span per published batch, never one per event. When
/// tracing is off nobody listens to <see cref="Source"/>: every Start returns null and no header is written, so the
/// hot paths pay one branch per batch and nothing per event.
/// </summary>
public static class PipelineTracing
{
    public const string SourceName = "Pipeline";
    public const string TraceParentHeader = "traceparent";

    /// <summary>Tag on a span whose trace must be exported whatever the sample ratio (see <see cref="PipelineSampler"/>).</summary>
    public const string KeepTag = "pipeline.keep";

    /// <summary>Why the trace is kept: <c>error</c>, <c>alert</c>, <c>deadletter</c>, <c>write_failed</c>.</summary>
    public const string KeepReasonTag = "pipeline.keep_reason";

    public static readonly ActivitySource Source = new(SourceName);

    // W3C Trace Context, the format OpenTelemetry collectors and every other instrumented service speak.
    private static readonly DistributedContextPropagator W3C = DistributedContextPropagator.CreateW3CPropagator();

    private static readonly KeyValuePair<string, object?>[] KeepAlert = [new(KeepTag, true), new(KeepReasonTag, "alert")];
    private static readonly KeyValuePair<string, object?>[] KeepDeadLetter = [new(KeepTag, true), new(KeepReasonTag, "deadletter")];

    /// <summary>True while a tracer provider listens; false means tracing is off.</summary>
    public static bool Enabled => Source.HasListeners();

    /// <summary>
    /// A span for one batch, or null when tracing is off. Not sampled spans are still recorded so <see cref="Keep"/> can
    /// promote them. With <paramref name="keepReason"/> the batch is known at its start to carry an error or an alert.
    /// </summary>
    public static Activity? StartBatch(string name, ActivityKind kind, ActivityContext parent = default, IEnumerable<ActivityLink>? links = null, string? keepReason = null)
        => Source.HasListeners() ? Source.StartActivity(name, kind, parent, keepReason is null ? null : KeepTags(keepReason), links) : null;

    /// <summary>
    /// A span already known at its start to carry an alert or a dead letter: the sampler sees the keep tag and samples
    /// it (and so every span continuing it downstream) whatever the ratio.
    /// </summary>
    public static Activity? StartKept(string name, ActivityKind kind, string reason, ActivityContext parent = default)
    {
        if (!Source.HasListeners()) return null;
        return Source.StartActivity(name, kind, parent, KeepTags(reason));
    }

    private static KeyValuePair<string, object?>[] KeepTags(string reason)
        => reason == "alert" ? KeepAlert : reason == "deadletter" ? KeepDeadLetter : [new(KeepTag, true), new(KeepReasonTag, reason)];

    /// <summary>
    /// Keeps this span's trace: it learned only after its start (so after head sampling) that its batch carries an
    /// error. The span was recorded anyway (<see cref="PipelineSampler"/> answers RecordOnly, not Drop); setting the
    /// sampled flag makes the exporter take it at its end, and the headers written from now on tell the stages
    /// downstream to sample their spans of this trace too.
    /// </summary>
    public static void Keep(Activity? activity, string reason)
    {
        if (activity is null || activity.GetTagItem(KeepTag) is not null) return;
        activity.SetTag(KeepTag, true);
        activity.SetTag(KeepReasonTag, reason);
        activity.ActivityTraceFlags |= ActivityTraceFlags.Recorded;
    }

    /// <summary>Marks a span failed (a write that failed, records dead-lettered) and keeps its trace.</summary>
    public static void Fail(Activity? activity, string description, string reason = "error")
    {
        if (activity is null) return;
        activity.SetStatus(ActivityStatusCode.Error, description);
        Keep(activity, reason);
    }

    /// <summary>
    /// Headers holding the span's <c>traceparent</c>, built once per batch and put on each of its records; null when
    /// there is no span or it is not sampled (then downstream stages decide for themselves, at the ratio).
    /// </summary>
    public static Headers? HeadersFor(Activity? activity)
    {
        if (activity is null || !activity.Recorded) return null;
        var headers = new Headers();
        W3C.Inject(activity, headers, static (carrier, name, value) =>
        {
            if (carrier is Headers h && value is not null) h.Add(name, System.Text.Encoding.ASCII.GetBytes(value));
        });
        return headers;
    }

    /// <summary>Replaces the <c>traceparent</c> in <paramref name="headers"/> (a record forwarded by a processor) with the span's.</summary>
    public static void Replace(Headers? headers, Activity? activity)
    {
        if (headers is null || activity is null || !activity.Recorded) return;
        headers.Remove(TraceParentHeader);
        headers.Remove("tracestate");
        var mine = HeadersFor(activity)!;
        for (int i = 0; i < mine.Count; i++) headers.Add(mine[i].Key, mine[i].GetValueBytes());
    }

    /// <summary>The trace context a record's <c>traceparent</c> names, if it has a valid one.</summary>
    public static bool TryExtract(Headers? headers, out ActivityContext context)
    {
        context = default;
        return headers is not null && headers.TryGetLastBytes(TraceParentHeader, out var value) && TryParse(value, out context);
    }

    /// <summary>
    /// Parses a W3C <c>traceparent</c> (<c>00-&lt;32 hex trace id&gt;-&lt;16 hex span id&gt;-&lt;2 hex flags&gt;</c>)
    /// straight from the header bytes: the sink reads one per record, and going through a string would allocate per record.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> value, out ActivityContext context)
    {
        context = default;
        if (value.Length < 55 || value[2] != '-' || value[35] != '-' || value[52] != '-') return false;
        if (value[0] == 'f' && value[1] == 'f') return false; // version ff is invalid
        var traceHex = value.Slice(3, 32);
        var spanHex = value.Slice(36, 16);
        if (!IsLowerHex(value[..2]) || !IsLowerHex(traceHex) || !IsLowerHex(spanHex) || !IsLowerHex(value.Slice(53, 2))) return false;
        if (traceHex.IndexOfAnyExcept((byte)'0') < 0 || spanHex.IndexOfAnyExcept((byte)'0') < 0) return false; // all zeros is invalid
        var traceId = ActivityTraceId.CreateFromUtf8String(traceHex);
        var spanId = ActivitySpanId.CreateFromUtf8String(spanHex);
        var flags = (HexValue(value[53]) << 4 | HexValue(value[54])) & 1;
        context = new ActivityContext(traceId, spanId, (ActivityTraceFlags)flags, isRemote: true);
        return true;
    }

    private static bool IsLowerHex(ReadOnlySpan<byte> span)
    {
        foreach (var b in span)
        {
            if (!((b >= '0' && b <= '9') || (b >= 'a' && b <= 'f'))) return false;
        }
        return true;
    }

    private static int HexValue(byte b) => b <= '9' ? b - '0' : b - 'a' + 10;
}
