using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Telemetry;

namespace Pipeline.Tests.Plumbing.Telemetry;

/// <summary>Spans, the traceparent header and the keep rules, exported to OpenTelemetry's in-memory exporter.</summary>
[Collection(TracingCollection.Name)]
public class PipelineTracingTests
{
    internal static TracerProvider InMemory(double ratio, List<Activity> exported)
        => TracingRegistration.AddPipelineSource(Sdk.CreateTracerProviderBuilder(), ratio).AddInMemoryExporter(exported).Build()!;

    [Fact]
    public void WithoutATracerThereIsNoSpanAndNoHeader()
    {
        Assert.False(PipelineTracing.Enabled);
        var span = PipelineTracing.StartBatch("logs publish", ActivityKind.Producer);
        Assert.Null(span);
        Assert.Null(PipelineTracing.HeadersFor(span));
        Assert.Null(PipelineTracing.StartKept("processors alert", ActivityKind.Internal, "alert"));
    }

    [Fact]
    public void RatioZeroDropsAnOrdinaryBatchButKeepsOneThatCarriesAnError()
    {
        var exported = new List<Activity>();
        using (InMemory(0, exported))
        {
            using (var ordinary = PipelineTracing.StartBatch("ordinary", ActivityKind.Producer))
            {
                Assert.NotNull(ordinary);
                Assert.False(ordinary.Recorded);
                Assert.Null(PipelineTracing.HeadersFor(ordinary)); // not sampled: downstream gets no header
            }
            using (var withError = PipelineTracing.StartBatch("with-error", ActivityKind.Producer))
            {
                PipelineTracing.Keep(withError, "error");
                var headers = PipelineTracing.HeadersFor(withError);
                Assert.NotNull(headers);
                Assert.True(PipelineTracing.TryExtract(headers, out var context));
                Assert.Equal(withError!.TraceId, context.TraceId);
                Assert.Equal(ActivityTraceFlags.Recorded, context.TraceFlags);
            }
        }
        var kept = Assert.Single(exported);
        Assert.Equal("with-error", kept.DisplayName);
        Assert.Equal(true, kept.GetTagItem(PipelineTracing.KeepTag));
        Assert.Equal("error", kept.GetTagItem(PipelineTracing.KeepReasonTag));
    }

    [Fact]
    public void RatioZeroKeepsAnAlertAndTheSpansThatContinueIt()
    {
        var exported = new List<Activity>();
        using (InMemory(0, exported))
        {
            Headers? headers;
            using (var alert = PipelineTracing.StartKept("processors alert", ActivityKind.Internal, "alert"))
            {
                Assert.True(alert!.Recorded);
                headers = PipelineTracing.HeadersFor(alert);
            }
            // Another stage, reading the record: parent-based, so the kept trace stays whole.
            Assert.True(PipelineTracing.TryExtract(headers, out var parent));
            using var sink = PipelineTracing.StartBatch("sinks write", ActivityKind.Client, parent);
            Assert.True(sink!.Recorded);
            Assert.Equal(parent.TraceId, sink.TraceId);
            Assert.Equal(parent.SpanId, sink.ParentSpanId);
        }
        Assert.Equal(["processors alert", "sinks write"], exported.Select(a => a.DisplayName));
    }

    [Fact]
    public void RatioOneKeepsEveryBatch()
    {
        var exported = new List<Activity>();
        using (InMemory(1, exported))
        {
            for (int i = 0; i < 5; i++)
            {
                using var span = PipelineTracing.StartBatch("batch", ActivityKind.Producer);
                Assert.NotNull(PipelineTracing.HeadersFor(span));
            }
        }
        Assert.Equal(5, exported.Count);
    }

    [Fact]
    public void AFailedBatchIsAnErrorAndKept()
    {
        var exported = new List<Activity>();
        using (InMemory(0, exported))
        {
            using var span = PipelineTracing.StartBatch("sinks write", ActivityKind.Client);
            PipelineTracing.Fail(span, "1 record rejected", "deadletter");
        }
        var kept = Assert.Single(exported);
        Assert.Equal(ActivityStatusCode.Error, kept.Status);
        Assert.Equal("1 record rejected", kept.StatusDescription);
    }

    [Theory]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true, true)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", true, false)]
    [InlineData("00-00000000000000000000000000000000-b7ad6b7169203331-01", false, false)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", false, false)]
    [InlineData("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", false, false)]
    [InlineData("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", false, false)]
    [InlineData("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", false, false)]
    [InlineData("garbage", false, false)]
    public void TraceParentIsParsedAsW3CSpecifies(string value, bool valid, bool sampled)
    {
        Assert.Equal(valid, PipelineTracing.TryParse(Encoding.ASCII.GetBytes(value), out var context));
        if (!valid) return;
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", context.TraceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", context.SpanId.ToHexString());
        Assert.Equal(sampled, context.TraceFlags == ActivityTraceFlags.Recorded);
        Assert.True(context.IsRemote);
    }

    [Fact]
    public void AnEcsLineInsideATracedOperationCarriesTraceAndSpanIds()
    {
        using var activity = new Activity("work").SetIdFormat(ActivityIdFormat.W3C).Start();
        var line = EcsLine("inside");
        Assert.Equal(activity.TraceId.ToHexString(), line.GetProperty("trace.id").GetString());
        Assert.Equal(activity.SpanId.ToHexString(), line.GetProperty("span.id").GetString());
        activity.Stop();
        Assert.False(EcsLine("outside").TryGetProperty("trace.id", out _));
    }

    private static JsonElement EcsLine(string message)
    {
        var writer = new StringWriter();
        var entry = new Microsoft.Extensions.Logging.Abstractions.LogEntry<string>(LogLevel.Information, "test", default, message, null, (s, _) => s);
        new EcsConsoleFormatter().Write(entry, null, writer);
        return JsonDocument.Parse(writer.ToString()).RootElement.Clone();
    }

    [Fact]
    public async Task OtlpOverHttpPostsProtobufToV1Traces()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var received = listener.GetContextAsync();

        var telemetry = new TelemetryConfig { OtlpEndpoint = $"http://127.0.0.1:{port}", OtlpProtocol = TelemetryConfig.HttpProtobuf, SampleRatio = 1 };
        var services = new ServiceCollection().AddLogging();
        services.AddPipelineTracing(telemetry, "pipeline-test", "test-host");
        await using var provider = services.BuildServiceProvider();
        var tracer = provider.GetRequiredService<TracerProvider>();
        using (PipelineTracing.StartBatch("logs publish", ActivityKind.Producer)) { }
        _ = Task.Run(() => tracer.ForceFlush(10_000));

        var context = await received.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("POST", context.Request.HttpMethod);
        Assert.Equal("/v1/traces", context.Request.Url!.AbsolutePath);
        Assert.Equal("application/x-protobuf", context.Request.ContentType);
        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body);
        Assert.True(Contains(body.ToArray(), "logs publish"u8), "the span's name is in the exported protobuf");
        context.Response.StatusCode = 200;
        context.Response.Close();
    }

    private static bool Contains(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
