using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Topics;

namespace Pipeline.Producers.Probes;

/// <summary>
/// Publishes every probe result to <c>ops.probes.v1</c>, keyed by <c>host.name</c>. Results are state
/// reported again at the next run, so when Kafka's local queue is full a result is dropped and counted
/// rather than blocking the probes: the next one carries the same news.
/// </summary>
public sealed class ProbePublisher : IProbeReportSink, IDisposable
{
    private const string Stage = "producers.probes";

    private readonly IProducer<byte[], byte[]> _producer;
    private readonly ProbeEventEncoder _encoder;
    private readonly ILogger _logger;
    private readonly byte[] _key;
    private readonly Action<DeliveryReport<byte[], byte[]>> _onDelivered;
    private readonly Prometheus.Counter.Child _produced;
    private readonly Prometheus.Counter.Child _acked;
    private readonly Prometheus.Counter.Child _failed;
    private long _delivered;

    public ProbePublisher(PipelineConfig config, KafkaSettings kafka, ILogger<ProbePublisher> logger)
    {
        _logger = logger;
        var host = config.EffectiveHostName;
        _key = System.Text.Encoding.UTF8.GetBytes(host);
        _encoder = new ProbeEventEncoder(host);
        _produced = PipelineMetrics.EventsIn.WithLabels(Stage, "probes");
        _acked = PipelineMetrics.EventsOut.WithLabels(Stage, TopicCatalog.Probes.Name);
        _failed = PipelineMetrics.DeliveryErrors.WithLabels(Stage, TopicCatalog.Probes.Name);
        _onDelivered = OnDelivered;
        _producer = new ProducerBuilder<byte[], byte[]>(kafka.Producer("probes"))
            .SetErrorHandler((_, e) => _logger.LogWarning("kafka producer: {Reason} ({Code})", e.Reason, e.Code))
            .SetLogHandler(KafkaLog.To(logger))
            .Build();
    }

    /// <summary>Results Kafka has acknowledged since start.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    public void Report(ProbeReport report)
    {
        // A probe run publishes one result: that is its batch, and a problem found keeps the trace.
        using var span = report.Result.Status == ProbeStatus.Problem
            ? PipelineTracing.StartKept("probes publish", ActivityKind.Producer, "error")
            : PipelineTracing.StartBatch("probes publish", ActivityKind.Producer);
        span?.SetTag("pipeline.probe", report.Probe.Name);
        var message = new Message<byte[], byte[]> { Key = _key, Value = _encoder.Encode(report), Timestamp = new Timestamp(report.Time), Headers = PipelineTracing.HeadersFor(span) };
        _produced.Inc();
        try
        {
            _producer.Produce(TopicCatalog.Probes.Name, message, _onDelivered);
        }
        catch (ProduceException<byte[], byte[]> e)
        {
            _failed.Inc();
            _logger.LogWarning("probe {Probe}: result not queued for Kafka ({Reason}); the next run reports again", report.Probe.Name, e.Error.Reason);
        }
    }

    private void OnDelivered(DeliveryReport<byte[], byte[]> report)
    {
        if (report.Error.Code == ErrorCode.NoError)
        {
            _acked.Inc();
            Interlocked.Increment(ref _delivered);
        }
        else
        {
            _failed.Inc();
            _logger.LogWarning("a probe result was not delivered to Kafka: {Reason}", report.Error.Reason);
        }
    }

    public void Dispose()
    {
        int remaining = _producer.Flush(TimeSpan.FromSeconds(10));
        if (remaining > 0) _logger.LogWarning("{Count} probe results were not acknowledged by Kafka before shutdown", remaining);
        _producer.Dispose();
    }
}
