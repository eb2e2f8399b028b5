using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Kubernetes;
using Pipeline.Plumbing.Config;
using Pipeline.Testing;
using Pipeline.Testing.Kubernetes;

namespace Pipeline.Tests.Kubernetes;

/// <summary>The operator against the tests' own API server, through the official client.</summary>
[Collection(Pipeline.Tests.Producers.Probes.ProbeTimingCollection.Name)]
public sealed class OperatorTests : IAsyncLifetime
{
    private const string Ns = "pipeline-system";
    private static readonly OperatorSettings Settings = new() { Namespace = Ns, AgentImage = "registry.test/pipeline:1", KafkaBootstrap = "kafka.test:9092" };
    private KubernetesApiTestServer _api = null!;
    private IKubernetes _client = null!;

    public async ValueTask InitializeAsync()
    {
        _api = await KubernetesApiTestServer.StartAsync(TestContext.Current.CancellationToken);
        var schema = KubernetesManifests.NodeProbeSchema();
        _api.ValidateNodeProbe = np => KubernetesManifests.SchemaProblems(schema, np);
        _api.PutNode("node-a", new() { ["kubernetes.io/os"] = "linux", ["pool"] = "gpu" });
        _api.PutNode("node-b", new() { ["kubernetes.io/os"] = "linux" });
        _api.PutNode("node-c", new() { ["kubernetes.io/os"] = "windows" });
        _client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _api.Url.ToString() });
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _api.DisposeAsync();
    }

    private static JsonObject NodeProbeJson(string name, JsonObject selector, params JsonObject[] probes) => new()
    {
        ["apiVersion"] = "ops.pipeline.dev/v1alpha1",
        ["kind"] = "NodeProbe",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "default" },
        ["spec"] = new JsonObject { ["nodeSelector"] = selector, ["probes"] = new JsonArray(probes) },
    };

    private Task CreateAsync(JsonObject nodeProbe)
        => _client.CustomObjects.CreateNamespacedCustomObjectAsync(nodeProbe, NodeProbe.Group, NodeProbe.Version, "default", NodeProbe.Plural, cancellationToken: TestContext.Current.CancellationToken);

    private NodeProbeReconciler Reconciler() => new(_client, Settings, NullLogger.Instance);

    private async Task CreateTwoAsync()
    {
        await CreateAsync(NodeProbeJson("linux", new JsonObject { ["kubernetes.io/os"] = "linux" },
            new JsonObject { ["name"] = "root-disk", ["type"] = "disk", ["target"] = "/", ["condition"] = "DiskPressure", ["failureThreshold"] = 3 },
            new JsonObject { ["name"] = "kernel", ["type"] = "kmsg", ["condition"] = "KernelDeadlock" }));
        await CreateAsync(NodeProbeJson("gpu", new JsonObject { ["pool"] = "gpu" },
            new JsonObject { ["name"] = "driver", ["type"] = "exec", ["argv"] = new JsonArray("/usr/bin/nvidia-smi", "-L"), ["condition"] = "GpuUnhealthy" }));
    }

    [Fact]
    public async Task AReconcileDeploysTheAgentForTheUnionOfSelectorsAndWritesStatus()
    {
        await CreateTwoAsync();
        await Reconciler().ReconcileAsync(TestContext.Current.CancellationToken);

        var toml = _api.ConfigMap(Ns, "pipeline-agent-probes")!["data"]!["agent.toml"]!.GetValue<string>();
        var agent = ConfigLoader.Parse(toml.Replace("${env:NODE_NAME}", "node-a", StringComparison.Ordinal), "agent.toml").Config;
        Assert.Equal(["default.gpu.driver", "default.linux.root-disk", "default.linux.kernel"], agent.Probes.Select(p => p.Name));
        Assert.Equal("gpu", agent.Probes[0].NodeSelector["pool"]);
        Assert.Equal(3, agent.Probes[1].FailureThreshold);
        Assert.Equal(("node-a", "kafka.test:9092"), (agent.ProbeRunner.NodeName, agent.Kafka.Bootstrap));

        var ds = _api.DaemonSet(Ns, "pipeline-agent")!;
        var pod = ds["spec"]!["template"]!["spec"]!;
        Assert.Equal("registry.test/pipeline:1", pod["containers"]![0]!["image"]!.GetValue<string>());
        Assert.Equal("pipeline-agent", pod["serviceAccountName"]!.GetValue<string>());
        var terms = pod["affinity"]!["nodeAffinity"]!["requiredDuringSchedulingIgnoredDuringExecution"]!["nodeSelectorTerms"]!.AsArray();
        Assert.Equal(["kubernetes.io/os", "pool"], terms.Select(t => t!["matchExpressions"]![0]!["key"]!.GetValue<string>()).Order());

        var linux = _api.NodeProbe("default", "linux")!["status"]!;
        Assert.Equal((2, 2, 1L), (linux["nodes"]!.GetValue<int>(), linux["probes"]!.GetValue<int>(), linux["observedGeneration"]!.GetValue<long>()));
        Assert.Equal(("Ready", "True", "Reconciled"), Condition(linux));
        Assert.Equal(1, _api.NodeProbe("default", "gpu")!["status"]!["nodes"]!.GetValue<int>());
    }

    [Fact]
    public async Task ReconcilingTwiceChangesNothingTheSecondTime()
    {
        await CreateTwoAsync();
        await Reconciler().ReconcileAsync(TestContext.Current.CancellationToken);
        _api.ClearCalls();
        var reconciler = Reconciler();
        await reconciler.ReconcileAsync(TestContext.Current.CancellationToken);
        Assert.Empty(_api.Writes);
        Assert.Equal(0, reconciler.Writes);
        Assert.NotEmpty(_api.Calls);
    }

    [Fact]
    public async Task ASpecChangeUpdatesConfigAndRollsTheDaemonSetAndADeletedDaemonSetComesBack()
    {
        await CreateTwoAsync();
        await Reconciler().ReconcileAsync(TestContext.Current.CancellationToken);
        var hashBefore = PodConfigHash();

        var patch = new V1PatchBody("""{"spec":{"probes":[{"name":"root-disk","type":"disk","target":"/","maxUsedPct":80}]}}""");
        await _client.CustomObjects.PatchNamespacedCustomObjectAsync(patch.Patch, NodeProbe.Group, NodeProbe.Version, "default", NodeProbe.Plural, "linux", cancellationToken: TestContext.Current.CancellationToken);
        await Reconciler().ReconcileAsync(TestContext.Current.CancellationToken);

        Assert.Contains("max_used_pct = 80", _api.ConfigMap(Ns, "pipeline-agent-probes")!["data"]!["agent.toml"]!.GetValue<string>());
        Assert.NotEqual(hashBefore, PodConfigHash());
        Assert.Equal(2L, _api.NodeProbe("default", "linux")!["status"]!["observedGeneration"]!.GetValue<long>());

        _api.Delete($"/apis/apps/v1/namespaces/{Ns}/daemonsets/pipeline-agent");
        await Reconciler().ReconcileAsync(TestContext.Current.CancellationToken);
        Assert.NotNull(_api.DaemonSet(Ns, "pipeline-agent"));
    }

    [Fact]
    public async Task ANodeProbeTheSchemaRejectsIsRefusedAndOneInvalidInMeaningGetsAStatusSayingWhy()
    {
        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => CreateAsync(NodeProbeJson("bad-type", [], new JsonObject { ["name"] = "x", ["type"] = "ping" })));
        Assert.Equal(System.Net.HttpStatusCode.UnprocessableEntity, refused.Response.StatusCode);

        await CreateAsync(NodeProbeJson("relative", [],
            new JsonObject { ["name"] = "check", ["type"] = "exec", ["argv"] = new JsonArray("check.sh") },
            new JsonObject { ["name"] = "web", ["type"] = "http", ["target"] = "not a url" }));
        await CreateTwoAsync();
        await Reconciler().ReconcileAsync(TestContext.Current.CancellationToken);

        var status = _api.NodeProbe("default", "relative")!["status"]!;
        var (type, value, reason) = Condition(status);
        Assert.Equal(("Ready", "False", "InvalidSpec"), (type, value, reason));
        var message = status["conditions"]![0]!["message"]!.GetValue<string>();
        Assert.Contains("argv[0] \"check.sh\" must be an absolute path", message);
        Assert.Contains("not an http(s) URL", message);
        Assert.Equal(0, status["probes"]!.GetValue<int>());
        // The valid NodeProbes still reach the agents.
        Assert.DoesNotContain("check.sh", _api.ConfigMap(Ns, "pipeline-agent-probes")!["data"]!["agent.toml"]!.GetValue<string>());
        Assert.Contains("default.linux.root-disk", _api.ConfigMap(Ns, "pipeline-agent-probes")!["data"]!["agent.toml"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheOperatorReactsToWatchEventsAndRbacAllowsEveryCallItMakes()
    {
        using var op = new NodeProbeOperator(_client, Settings, new Producers.Logs.TestOutputLogger<NodeProbeOperator>(TestContext.Current.TestOutputHelper));
        await op.StartAsync(TestContext.Current.CancellationToken);
        await Eventually.True(() => op.Passes >= 1, TimeSpan.FromSeconds(20), "first reconcile");
        Assert.Null(_api.NodeProbe("default", "linux"));

        await CreateTwoAsync();
        await Eventually.True(() => _api.NodeProbe("default", "gpu")?["status"] is not null && _api.NodeProbe("default", "linux")?["status"] is not null,
            TimeSpan.FromSeconds(20), "status written after the watch saw the new NodeProbes");
        Assert.Contains("default.gpu.driver", _api.ConfigMap(Ns, "pipeline-agent-probes")!["data"]!["agent.toml"]!.GetValue<string>());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await op.StopAsync(timeout.Token);

        Assert.Contains(_api.Calls, c => c.Verb == "watch" && c.Resource == "nodeprobes");
        foreach (var call in _api.Calls.Where(c => !(c.Verb == "create" && c.Resource == "nodeprobes"))) // those were the test's own
        {
            Assert.True(KubernetesManifests.Allows("pipeline-operator", call.Verb, call.Group, call.Resource, call.Subresource, call.Namespace, call.Name),
                $"deploy/k8s RBAC does not allow the operator's call: {call}");
        }
    }

    [Fact]
    public async Task OnARealClusterTheSameFlowWorks()
    {
        var kubeconfig = Environment.GetEnvironmentVariable("KUBECONFIG");
        if (string.IsNullOrEmpty(kubeconfig) || !File.Exists(kubeconfig))
        {
            Assert.Skip("set KUBECONFIG to a cluster with deploy/k8s/ applied to run this against a real API server");
            return;
        }
        using var client = KubernetesConnection.Create(kubeconfig);
        var reconciler = new NodeProbeReconciler(client, new OperatorSettings { Namespace = "pipeline-system" }, NullLogger.Instance);
        await reconciler.ReconcileAsync(TestContext.Current.CancellationToken);
        await reconciler.ReconcileAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, reconciler.Writes);
    }

    private string PodConfigHash()
        => _api.DaemonSet(Ns, "pipeline-agent")!["spec"]!["template"]!["metadata"]!["annotations"]!["ops.pipeline.dev/config-hash"]!.GetValue<string>();

    private static (string, string, string) Condition(JsonNode status)
    {
        var c = status["conditions"]![0]!;
        return (c["type"]!.GetValue<string>(), c["status"]!.GetValue<string>(), c["reason"]!.GetValue<string>());
    }

    private sealed record V1PatchBody(string Json)
    {
        public k8s.Models.V1Patch Patch => new(Json, k8s.Models.V1Patch.PatchType.MergePatch);
    }
}
