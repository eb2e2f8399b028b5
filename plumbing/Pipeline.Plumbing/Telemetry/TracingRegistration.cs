using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Pipeline.Plumbing.Config;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>Wires the <c>[telemetry]</c> section into a host: the tracer provider, the sampler and the OTLP exporter.</summary>
public static class TracingRegistration
{
    /// <summary>
    /// Registers tracing with OTLP export when <c>telemetry.otlp_endpoint</c> is set; does nothing otherwise, so no
    /// listener exists and every span start is a null check.
    /// </summary>
    public static IServiceCollection AddPipelineTracing(this IServiceCollection services, TelemetryConfig telemetry, string serviceName, string hostName)
    {
        if (telemetry.OtlpEndpoint.Length == 0) return services;
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName).AddAttributes([new("host.name", hostName)]))
            .WithTracing(b => AddPipelineSource(b, telemetry.SampleRatio).AddOtlpExporter(o => ConfigureOtlp(o, telemetry)));
        return services;
    }

    /// <summary>The pipeline's source with its sampler; the exporter is the caller's (OTLP in the host, in-memory in tests).</summary>
    public static TracerProviderBuilder AddPipelineSource(TracerProviderBuilder builder, double sampleRatio)
        => builder.AddSource(PipelineTracing.SourceName).SetSampler(new PipelineSampler(sampleRatio));

    internal static void ConfigureOtlp(OtlpExporterOptions options, TelemetryConfig telemetry)
    {
        bool http = telemetry.OtlpProtocol == TelemetryConfig.HttpProtobuf;
        options.Protocol = http ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        var endpoint = new Uri(telemetry.OtlpEndpoint);
        // An endpoint set in code is used as it is, also over HTTP; collectors take traces at /v1/traces, so a bare
        // host:port gets that path, as the OTEL_EXPORTER_OTLP_ENDPOINT variable would.
        if (http && endpoint.AbsolutePath is "" or "/") endpoint = new Uri(endpoint, "v1/traces");
        options.Endpoint = endpoint;
    }
}
