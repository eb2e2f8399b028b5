namespace Pipeline.Plumbing.Config;

/// <summary>
/// <c>[telemetry]</c>: traces of the pipeline's own work (OpenTelemetry). Off unless <c>otlp_endpoint</c> is set;
/// then every published batch, alert, dead letter and bulk write is a span, and a trace follows a batch from the
/// producer through the processors to the sink in the Kafka record header <c>traceparent</c>.
/// </summary>
public sealed class TelemetryConfig
{
    public const string Grpc = "grpc";
    public const string HttpProtobuf = "http/protobuf";

    /// <summary>
    /// OTLP collector address, e.g. <c>http://otel-collector:4317</c> (gRPC) or <c>http://otel-collector:4318</c>
    /// (HTTP; <c>/v1/traces</c> is appended). Default empty: tracing off, no spans and no headers.
    /// </summary>
    public string OtlpEndpoint { get; set; } = "";

    /// <summary><c>grpc</c> (default) or <c>http/protobuf</c>.</summary>
    public string OtlpProtocol { get; set; } = Grpc;

    /// <summary>
    /// Share of traces kept, 0 to 1, decided where a trace starts and followed downstream (parent-based). Batches that
    /// carry an error line, an alert, a dead letter or a failed write are kept whatever the ratio. Default 0.01.
    /// </summary>
    public double SampleRatio { get; set; } = 0.01;
}
