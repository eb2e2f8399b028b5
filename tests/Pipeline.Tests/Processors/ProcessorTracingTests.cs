using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Producers.Logs;
using Pipeline.Tests.Plumbing.Telemetry;

namespace Pipeline.Tests.Processors;

/// <summary>The processors continue the trace from the record header, and keep an alert's and a dead letter's at ratio 0.</summary>
[Collection(TracingCollection.Name)]
public class ProcessorTracingTests
{
    private static readonly RuleConfig ErrorRule = new()
    {
        Name = "errors",
        Source = "logs",
        Where = "log.level == \"error\"",
        GroupBy = ["host.name"],
        Threshold = 2,
        Window = "10s",
    };

    [Fact]
    public void AnAlertIsAKeptChildOfTheBatchThatTrippedItAndItsRecordCarriesItsTraceparent()
    {
        var exported = new List<Activity>();
        using var tracer = PipelineTracingTests.InMemory(0, exported);
        using var h = new ProcessorTopologyTests.Harness(ErrorRule);
        // An unsampled producer batch: its header is not sampled, yet the alert it causes is kept.
        var producer = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None);
        var t0 = DateTime.UtcNow;
        Line(h, "ERROR one", t0, producer);
        Line(h, "ERROR two", t0.AddMilliseconds(10), producer);

        var alert = Assert.Single(h.Alerts.ReadKeyValueList());
        // The exporter listens process-wide, and rule tests in other collections raise alerts at the same time:
        // this test's span is the one in the producer's trace.
        var span = Assert.Single(exported, a => a.DisplayName == "processors alert" && a.TraceId == producer.TraceId);
        Assert.Equal("alert", span.GetTagItem(PipelineTracing.KeepReasonTag));
        Assert.Equal("errors", span.GetTagItem("alert.name"));
        Assert.Equal(producer.TraceId, span.TraceId);
        Assert.Equal(producer.SpanId, span.ParentSpanId);
        Assert.True(PipelineTracing.TryExtract(alert.Message.Headers, out var onRecord));
        Assert.Equal(span.SpanId, onRecord.SpanId);
        Assert.Equal(ActivityTraceFlags.Recorded, onRecord.TraceFlags);
    }

    [Fact]
    public void ABadRecordIsDeadLetteredUnderAKeptSpan()
    {
        var exported = new List<Activity>();
        using var tracer = PipelineTracingTests.InMemory(0, exported);
        using var h = new ProcessorTopologyTests.Harness(ErrorRule);
        h.Logs.PipeInput("web-1", "not json"u8.ToArray(), DateTime.UtcNow, new Headers());

        var letter = Assert.Single(h.DeadLetters.ReadKeyValueList());
        Assert.True(PipelineTracing.TryExtract(letter.Message.Headers, out var onRecord));
        // Other collections' tests dead-letter records at the same time (see above): find this record's span.
        var span = Assert.Single(exported, a => a.DisplayName == "processors deadletter" && a.SpanId == onRecord.SpanId);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal(ActivityTraceFlags.Recorded, onRecord.TraceFlags);
    }

    private static void Line(ProcessorTopologyTests.Harness h, string message, DateTime at, ActivityContext trace)
    {
        var encoder = new LogEventEncoder("web-1", new Dictionary<string, string>(), []);
        var value = encoder.Encode(Encoding.UTF8.GetBytes(message), at.Ticks, "/var/log/app.log", "1:2:3", at, LineFlags.None);
        var headers = new Headers
        {
            { PipelineTracing.TraceParentHeader, Encoding.ASCII.GetBytes($"00-{trace.TraceId.ToHexString()}-{trace.SpanId.ToHexString()}-00") },
        };
        h.Logs.PipeInput("web-1", value, at, headers);
    }
}
