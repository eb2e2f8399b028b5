using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Plumbing.Config;

namespace Pipeline.Tests.Kubernetes;

/// <summary>deploy/k8s/ parses, the example NodeProbe fits the CRD, and the CRD and the TOML agree on a probe's keys.</summary>
public sealed class ManifestTests
{
    [Fact]
    public void TheCrdIsANamespacedNodeProbeWithAStatusSubresourceAndPrinterColumns()
    {
        var crd = KubernetesManifests.Single("CustomResourceDefinition");
        Assert.Equal("nodeprobes.ops.pipeline.dev", crd["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(("ops.pipeline.dev", "Namespaced", "NodeProbe"), (crd["spec"]!["group"]!.GetValue<string>(), crd["spec"]!["scope"]!.GetValue<string>(), crd["spec"]!["names"]!["kind"]!.GetValue<string>()));
        var version = crd["spec"]!["versions"]![0]!;
        Assert.Equal("v1alpha1", version["name"]!.GetValue<string>());
        Assert.NotNull(version["subresources"]!["status"]);
        var columns = version["additionalPrinterColumns"]!.AsArray().Select(c => (c!["name"]!.GetValue<string>(), c["jsonPath"]!.GetValue<string>())).ToList();
        Assert.Contains(("Nodes", ".status.nodes"), columns);
        Assert.Contains(("Probes", ".status.probes"), columns);
        Assert.Contains(("Age", ".metadata.creationTimestamp"), columns);
    }

    [Fact]
    public void AProbeInTheCrdHasExactlyTheKeysOfAProbeInToml()
    {
        var crd = KubernetesManifests.Single("CustomResourceDefinition");
        var item = crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["properties"]!["probes"]!["items"]!["properties"]!.AsObject();
        // node_selector is the operator's to set, from the NodeProbe's own nodeSelector.
        var toml = typeof(ProbeConfig).GetProperties().Where(p => p.CanWrite && p.Name != nameof(ProbeConfig.NodeSelector)).Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name));
        Assert.Equal(toml.Order(StringComparer.Ordinal), item.Select(kv => kv.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheExampleNodeProbeFitsTheCrdSchemaAndIsValidInMeaning()
    {
        var schema = KubernetesManifests.NodeProbeSchema();
        var example = KubernetesManifests.Single("NodeProbe");
        Assert.Null(KubernetesManifests.SchemaProblems(schema, example));
        var nodeProbe = k8s.KubernetesJson.Deserialize<Pipeline.Kubernetes.NodeProbe>(example.ToJsonString());
        Assert.Equal(6, nodeProbe.Spec.Probes.Count);
        Assert.Equal(3, nodeProbe.Spec.Probes[0].FailureThreshold);
        Assert.Empty(Pipeline.Kubernetes.NodeProbeValidator.Problems(nodeProbe));
    }

    [Theory]
    [InlineData("type", "\"ping\"")]
    [InlineData("failureThreshold", "0")]
    [InlineData("interval", "\"often\"")]
    [InlineData("condition", "\"disk pressure\"")]
    public void TheCrdSchemaRejectsABrokenProbe(string key, string json)
    {
        var schema = KubernetesManifests.NodeProbeSchema();
        var bad = KubernetesManifests.Single("NodeProbe");
        bad["spec"]!["probes"]![0]![key] = JsonNode.Parse(json);
        Assert.NotNull(KubernetesManifests.SchemaProblems(schema, bad));
    }

    [Fact]
    public void TheOperatorDeploymentRunsTheOperatorCommandAsItsServiceAccount()
    {
        var deployment = KubernetesManifests.Single("Deployment", "pipeline-operator");
        var pod = deployment["spec"]!["template"]!["spec"]!;
        Assert.Equal("pipeline-operator", pod["serviceAccountName"]!.GetValue<string>());
        Assert.Equal("operator", pod["containers"]![0]!["args"]![0]!.GetValue<string>());
        var config = KubernetesManifests.Single("ConfigMap", "pipeline-operator")["data"]!["operator.toml"]!.GetValue<string>();
        Assert.Equal("kafka.kafka.svc:9092", ConfigLoader.Parse(config, "operator.toml").Config.Kafka.Bootstrap);
    }

    [Fact]
    public void TheAgentMayReadAndPatchNodesButNothingElse()
    {
        Assert.True(KubernetesManifests.Allows("pipeline-agent", "get", "", "nodes", null, null, "node-1"));
        Assert.True(KubernetesManifests.Allows("pipeline-agent", "patch", "", "nodes", "status", null, "node-1"));
        Assert.False(KubernetesManifests.Allows("pipeline-agent", "patch", "", "nodes", null, null, "node-1"));
        Assert.False(KubernetesManifests.Allows("pipeline-agent", "list", "", "pods", null, null, null));
        Assert.False(KubernetesManifests.Allows("pipeline-operator", "delete", "apps", "daemonsets", null, "pipeline-system", "pipeline-agent"));
        Assert.False(KubernetesManifests.Allows("pipeline-operator", "patch", "apps", "daemonsets", null, "pipeline-system", "someone-elses"));
    }
}
