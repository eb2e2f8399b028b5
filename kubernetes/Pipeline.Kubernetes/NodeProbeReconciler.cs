using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Pipeline.Kubernetes;

/// <summary>
/// One reconcile pass: read every NodeProbe and node, make the agent ConfigMap and DaemonSet what they should
/// be, and write each NodeProbe's status. Writes only what differs, so a second pass over the same state
/// makes no request that changes anything. Every API call it makes is listed in deploy/k8s/rbac.yaml (a test checks).
/// </summary>
public sealed class NodeProbeReconciler(IKubernetes client, OperatorSettings settings, ILogger logger)
{
    private readonly AgentDeployment _deployment = new(settings);

    /// <summary>Writes (creates, patches) made by the last pass; 0 on a pass that found everything as it should be.</summary>
    public int Writes { get; private set; }

    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        Writes = 0;
        var list = await client.CustomObjects.ListClusterCustomObjectAsync<NodeProbeList>(NodeProbe.Group, NodeProbe.Version, NodeProbe.Plural, cancellationToken: cancellationToken).ConfigureAwait(false);
        var nodeProbes = list.Items ?? [];
        var nodes = (await client.CoreV1.ListNodeAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Items ?? [];

        var valid = new List<NodeProbe>();
        var problems = new Dictionary<NodeProbe, List<string>>();
        foreach (var np in nodeProbes)
        {
            var p = NodeProbeValidator.Problems(np);
            problems[np] = p;
            if (p.Count == 0) valid.Add(np);
        }

        var toml = _deployment.AgentToml(valid);
        await EnsureConfigMapAsync(_deployment.ConfigMap(toml), cancellationToken).ConfigureAwait(false);
        await EnsureDaemonSetAsync(_deployment.DaemonSet(valid, toml), cancellationToken).ConfigureAwait(false);
        foreach (var np in nodeProbes)
        {
            int covered = nodes.Count(n => AgentDeployment.Selects(np.Spec.NodeSelector, n.Metadata.Labels));
            await WriteStatusAsync(np, covered, problems[np], cancellationToken).ConfigureAwait(false);
        }
        logger.LogInformation("reconciled {NodeProbes} NodeProbe(s), {Valid} valid, {Probes} probe(s); {Writes} write(s)",
            nodeProbes.Count, valid.Count, valid.Sum(v => v.Spec.Probes.Count), Writes);
    }

    private async Task EnsureConfigMapAsync(V1ConfigMap desired, CancellationToken cancellationToken)
    {
        var current = await ReadOrNullAsync(() => client.CoreV1.ReadNamespacedConfigMapAsync(desired.Metadata.Name, settings.Namespace, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (current is null)
        {
            await client.CoreV1.CreateNamespacedConfigMapAsync(desired, settings.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            Writes++;
            logger.LogInformation("created ConfigMap {Namespace}/{Name}", settings.Namespace, desired.Metadata.Name);
            return;
        }
        if (current.Data is not null && current.Data.TryGetValue(AgentDeployment.ConfigKey, out var text) && text == desired.Data[AgentDeployment.ConfigKey]) return;
        var patch = new V1Patch(KubernetesJson.Serialize(new { data = desired.Data }), V1Patch.PatchType.MergePatch);
        await client.CoreV1.PatchNamespacedConfigMapAsync(patch, desired.Metadata.Name, settings.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        Writes++;
        logger.LogInformation("updated ConfigMap {Namespace}/{Name}", settings.Namespace, desired.Metadata.Name);
    }

    private async Task EnsureDaemonSetAsync(V1DaemonSet desired, CancellationToken cancellationToken)
    {
        var current = await ReadOrNullAsync(() => client.AppsV1.ReadNamespacedDaemonSetAsync(desired.Metadata.Name, settings.Namespace, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (current is null)
        {
            await client.AppsV1.CreateNamespacedDaemonSetAsync(desired, settings.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            Writes++;
            logger.LogInformation("created DaemonSet {Namespace}/{Name}", settings.Namespace, desired.Metadata.Name);
            return;
        }
        // The hash of the spec we last wrote: the API server fills in defaults, so comparing specs field by field would always differ.
        if (current.Metadata.Annotations?.TryGetValue(AgentDeployment.HashAnnotation, out var hash) == true && hash == desired.Metadata.Annotations[AgentDeployment.HashAnnotation]) return;
        var patch = new V1Patch(KubernetesJson.Serialize(new { metadata = new { annotations = desired.Metadata.Annotations, labels = desired.Metadata.Labels }, spec = desired.Spec }), V1Patch.PatchType.MergePatch);
        await client.AppsV1.PatchNamespacedDaemonSetAsync(patch, desired.Metadata.Name, settings.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        Writes++;
        logger.LogInformation("updated DaemonSet {Namespace}/{Name}", settings.Namespace, desired.Metadata.Name);
    }

    private async Task WriteStatusAsync(NodeProbe np, int nodes, List<string> problems, CancellationToken cancellationToken)
    {
        var ready = problems.Count == 0;
        var old = np.Status;
        var oldReady = old?.Conditions.FirstOrDefault(c => c.Type == "Ready");
        var message = ready ? $"{np.Spec.Probes.Count} probe(s) passed to the agents on {nodes} node(s)" : string.Join("; ", problems);
        var reason = ready ? "Reconciled" : "InvalidSpec";
        var status = ready ? "True" : "False";
        int probes = ready ? np.Spec.Probes.Count : 0;
        if (old is not null && old.ObservedGeneration == np.Metadata.Generation && old.Nodes == nodes && old.Probes == probes &&
            oldReady is not null && oldReady.Status == status && oldReady.Reason == reason && oldReady.Message == message)
            return;
        var now = DateTime.UtcNow;
        var condition = new V1Condition
        {
            Type = "Ready",
            Status = status,
            Reason = reason,
            Message = message,
            ObservedGeneration = np.Metadata.Generation,
            LastTransitionTime = oldReady is not null && oldReady.Status == status ? oldReady.LastTransitionTime : now,
        };
        var body = new { status = new NodeProbeStatus { ObservedGeneration = np.Metadata.Generation, Nodes = nodes, Probes = probes, LastReconcileTime = now, Conditions = [condition] } };
        await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch(KubernetesJson.Serialize(body), V1Patch.PatchType.MergePatch),
            NodeProbe.Group, NodeProbe.Version, np.Metadata.NamespaceProperty, NodeProbe.Plural, np.Metadata.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
        Writes++;
        if (!ready) logger.LogWarning("NodeProbe {Namespace}/{Name} is invalid: {Problems}", np.Metadata.NamespaceProperty, np.Metadata.Name, message);
    }

    private static async Task<T?> ReadOrNullAsync<T>(Func<Task<T>> read) where T : class
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}

/// <summary>The list kind the API returns for <c>GET .../nodeprobes</c>.</summary>
public sealed class NodeProbeList
{
    [System.Text.Json.Serialization.JsonPropertyName("items")] public List<NodeProbe> Items { get; set; } = [];
}
