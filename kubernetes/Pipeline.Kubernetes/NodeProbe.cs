using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using Pipeline.Plumbing.Config;

namespace Pipeline.Kubernetes;

/// <summary>
/// The <c>NodeProbe</c> custom resource (<c>ops.pipeline.dev/v1alpha1</c>, namespaced): which nodes, and which
/// probes to run on them. <c>spec.probes[]</c> has the shape of <c>[[probes]]</c> in camelCase
/// (<c>failureThreshold</c> for <c>failure_threshold</c>), so it binds straight to <see cref="ProbeConfig"/>.
/// </summary>
public sealed class NodeProbe : IKubernetesObject<V1ObjectMeta>
{
    public const string Group = "ops.pipeline.dev";
    public const string Version = "v1alpha1";
    public const string Plural = "nodeprobes";
    public const string KindName = "NodeProbe";

    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = $"{Group}/{Version}";
    [JsonPropertyName("kind")] public string Kind { get; set; } = KindName;
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public NodeProbeSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public NodeProbeStatus? Status { get; set; }
}

public sealed class NodeProbeSpec
{
    /// <summary>Labels a node must carry for these probes to run on it. Empty: every node.</summary>
    [JsonPropertyName("nodeSelector")] public Dictionary<string, string> NodeSelector { get; set; } = [];

    [JsonPropertyName("probes")] public List<ProbeConfig> Probes { get; set; } = [];
}

/// <summary>What the operator last did with a NodeProbe; written through the status subresource.</summary>
public sealed class NodeProbeStatus
{
    /// <summary>The <c>metadata.generation</c> this status describes.</summary>
    [JsonPropertyName("observedGeneration")] public long? ObservedGeneration { get; set; }

    /// <summary>Nodes the node selector matches now.</summary>
    [JsonPropertyName("nodes")] public int Nodes { get; set; }

    /// <summary>Probes passed on to the agents (0 when the spec is invalid).</summary>
    [JsonPropertyName("probes")] public int Probes { get; set; }

    [JsonPropertyName("lastReconcileTime")] public DateTime? LastReconcileTime { get; set; }

    /// <summary><c>Ready</c>: True when the probes reached the agents' ConfigMap; False with reason <c>InvalidSpec</c> and the errors otherwise.</summary>
    [JsonPropertyName("conditions")] public List<V1Condition> Conditions { get; set; } = [];
}
