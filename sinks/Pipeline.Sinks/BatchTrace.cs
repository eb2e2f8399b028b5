using System.Diagnostics;
using Confluent.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Topics;

namespace Pipeline.Sinks;

/// <summary>
/// The traces a sink batch continues, gathered from its records' <c>traceparent</c> headers while tracing is on: the
/// parent of the batch's span (the first sampled context, so a kept trace stays whole), links to the others, and
/// whether the batch is known to carry an alert or a dead letter, which keeps its trace.
/// </summary>
public sealed class BatchTrace
{
    /// <summary>Most traces one batch links to: a batch of thousands of records from many batches upstream stays one small span.</summary>
    public const int MaxLinks = 32;

    private readonly List<ActivityLink> _links = [];
    private byte[]? _lastHeader;

    public ActivityContext Parent { get; private set; }

    public IReadOnlyList<ActivityLink> Links => _links;

    /// <summary><c>alert</c> or <c>deadletter</c> when the batch carries one; null otherwise.</summary>
    public string? KeepReason { get; private set; }

    /// <summary>Takes one record's headers. A producer batch puts the same traceparent on each of its records, so a repeat costs a byte comparison.</summary>
    public void Observe(Headers? headers, string topic)
    {
        if (KeepReason is null)
        {
            if (topic == TopicCatalog.Alerts.Name) KeepReason = "alert";
            else if (topic == TopicCatalog.DeadLetter.Name) KeepReason = "deadletter";
        }
        if (headers is null || !headers.TryGetLastBytes(PipelineTracing.TraceParentHeader, out var value)) return;
        if (_lastHeader is not null && value.AsSpan().SequenceEqual(_lastHeader)) return;
        _lastHeader = value;
        if (!PipelineTracing.TryParse(value, out var context)) return;
        bool sampled = (context.TraceFlags & ActivityTraceFlags.Recorded) != 0;
        if (Parent == default || (sampled && (Parent.TraceFlags & ActivityTraceFlags.Recorded) == 0))
        {
            if (Parent != default && _links.Count < MaxLinks) _links.Add(new ActivityLink(Parent));
            Parent = context;
            return;
        }
        if (_links.Count < MaxLinks && context.TraceId != Parent.TraceId) _links.Add(new ActivityLink(context));
    }
}
