namespace Pipeline.Producers.Probes;

/// <summary>Where probe results go: Kafka, a node's conditions, a table. Called from many probe runs at once, so it must be thread-safe and must not block.</summary>
public interface IProbeReportSink
{
    void Report(ProbeReport report);
}
