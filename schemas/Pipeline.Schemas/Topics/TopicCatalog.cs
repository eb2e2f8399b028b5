namespace Pipeline.Schemas.Topics;

/// <summary>Every topic the pipeline reads or writes. The single place topic names are spelled.</summary>
public static class TopicCatalog
{
    public const string HostKey = "host.name";

    public static readonly TopicSpec Process = new("ops.process.v1", 6, HostKey, "ops.process.v1.schema.json", "ops.process", "metrics");
    public static readonly TopicSpec Logs = new("ops.logs.v1", 6, HostKey, "ops.logs.v1.schema.json", "ops.logs", "logs");
    public static readonly TopicSpec Probes = new("ops.probes.v1", 3, HostKey, "ops.probes.v1.schema.json", "ops.probes", "metrics");
    public static readonly TopicSpec Alerts = new("ops.alerts.v1", 3, "alert.fingerprint", "ops.alerts.v1.schema.json", "ops.alerts", "logs");
    public static readonly TopicSpec DeadLetter = new("ops.deadletter.v1", 3, HostKey, "ops.deadletter.v1.schema.json", "ops.deadletter", "logs");

    public static readonly IReadOnlyList<TopicSpec> All = [Process, Logs, Probes, Alerts, DeadLetter];

    /// <summary>The topics events enter the pipeline on, by the short source name rules use.</summary>
    public static readonly IReadOnlyDictionary<string, TopicSpec> Sources = new Dictionary<string, TopicSpec>(StringComparer.Ordinal)
    {
        ["process"] = Process,
        ["logs"] = Logs,
        ["probes"] = Probes,
    };

    public static TopicSpec? ByName(string topic)
    {
        foreach (var spec in All)
        {
            if (spec.Name == topic) return spec;
        }
        return null;
    }
}
