namespace Pipeline.Kubernetes;

/// <summary>Where the operator puts the agent and what it runs. Defaults match deploy/k8s/.</summary>
public sealed record OperatorSettings
{
    /// <summary>The operator's own namespace, where the DaemonSet and ConfigMap live. From POD_NAMESPACE in the cluster.</summary>
    public string Namespace { get; init; } = "pipeline-system";
    public string DaemonSetName { get; init; } = "pipeline-agent";
    public string ConfigMapName { get; init; } = "pipeline-agent-probes";
    public string AgentServiceAccount { get; init; } = "pipeline-agent";
    public string AgentImage { get; init; } = "ghcr.io/example/pipeline:latest";
    public string KafkaBootstrap { get; init; } = "kafka:9092";

    /// <summary>A full reconcile even without watch events, to repair drift (someone edited the DaemonSet) and refresh node counts.</summary>
    public TimeSpan ResyncEvery { get; init; } = TimeSpan.FromMinutes(5);
}
