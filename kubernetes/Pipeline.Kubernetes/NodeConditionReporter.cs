using System.Text.Json.Serialization;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Producers.Probes;

namespace Pipeline.Kubernetes;

/// <summary>
/// The agent's side in Kubernetes: keeps the NodeConditions its probes drive up to date on its own node,
/// the way node-problem-detector does, but without NPD's reset on restart: at start it takes each
/// condition's status and <c>lastTransitionTime</c> from the node as it finds it, so a restart is not a
/// transition. Several probes may drive one condition: it is True when any of them says so. A change is
/// patched at once (coalesced over 100 ms); otherwise every condition is re-sent as a heartbeat.
/// </summary>
public sealed class NodeConditionReporter : BackgroundService, IProbeReportSink
{
    public static readonly TimeSpan HeartbeatEvery = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(100);
    private const int MaxMessage = 1024;

    private readonly IKubernetes _client;
    private readonly string _nodeName;
    private readonly ILogger _logger;
    private readonly Dictionary<string, ConditionState> _conditions = new(StringComparer.Ordinal);
    private readonly Channel<bool> _dirty = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _patches;

    public NodeConditionReporter(IKubernetes client, V1Node node, IEnumerable<ScheduledProbe> probes, ILogger logger)
    {
        _client = client;
        _nodeName = node.Metadata.Name;
        _logger = logger;
        var existing = node.Status?.Conditions ?? [];
        foreach (var probe in probes)
        {
            var type = probe.Config.Condition;
            if (type.Length == 0) continue;
            if (!_conditions.TryGetValue(type, out var state))
            {
                var found = existing.FirstOrDefault(c => c.Type == type);
                state = found is null
                    ? new ConditionState(type, ConditionStatus.Unknown, DateTime.UtcNow, "NoResultYet", "no probe has reported yet")
                    : new ConditionState(type, ProbeStatusText.ParseCondition(found.Status), found.LastTransitionTime ?? DateTime.UtcNow, found.Reason ?? "", found.Message ?? "");
                _conditions[type] = state;
                if (found is not null) _logger.LogInformation("node {Node}: restored condition {Type}={Status} (since {Since:o})", _nodeName, type, found.Status, state.Since);
            }
            state.Probes[probe.Name] = state.Status;
            // The probe continues from the node's state: no flip (and no new lastTransitionTime) unless its results disagree.
            probe.Condition.Restore(state.Status, new DateTimeOffset(state.Since, TimeSpan.Zero));
        }
    }

    /// <summary>The node as the API has it, to restore conditions from and to match probes' node selectors against.</summary>
    public static Task<V1Node> ReadNodeAsync(IKubernetes client, string nodeName, CancellationToken cancellationToken)
        => client.CoreV1.ReadNodeAsync(nodeName, cancellationToken: cancellationToken);

    /// <summary>The probes meant for this node: those whose <c>node_selector</c> its labels satisfy.</summary>
    public static List<ProbeConfig> ProbesFor(V1Node node, IEnumerable<ProbeConfig> probes)
        => [.. probes.Where(p => AgentDeployment.Selects(p.NodeSelector, node.Metadata.Labels))];

    /// <summary>Successful PATCHes of the node's status so far.</summary>
    public long Patches => Interlocked.Read(ref _patches);

    public void Report(ProbeReport report)
    {
        var type = report.Probe.Config.Condition;
        if (type.Length == 0) return;
        lock (_conditions)
        {
            if (!_conditions.TryGetValue(type, out var state)) return;
            state.Probes[report.Probe.Name] = report.ConditionStatus;
            var combined = state.Probes.Values.Contains(ConditionStatus.True) ? ConditionStatus.True
                : state.Probes.Values.Contains(ConditionStatus.Unknown) ? ConditionStatus.Unknown
                : ConditionStatus.False;
            // The reason and message come from the probe that decides the combined status.
            if (report.ConditionStatus == combined || state.Status != combined)
            {
                state.Reason = Reason(report.Result, combined);
                var message = $"{report.Probe.Name}: {report.Result.Message}";
                state.Message = message.Length > MaxMessage ? message[..MaxMessage] : message;
            }
            if (combined != state.Status)
            {
                state.Status = combined;
                state.Since = report.Time.UtcDateTime;
                state.Changed = true;
            }
            else if (state.Reason != state.SentReason)
            {
                state.Changed = true;
            }
        }
        _dirty.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextHeartbeat = DateTime.UtcNow;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = nextHeartbeat - DateTime.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                using var timer = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timer.CancelAfter(wait);
                try
                {
                    await _dirty.Reader.ReadAsync(timer.Token).ConfigureAwait(false);
                    await Task.Delay(Coalesce, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            bool heartbeat = DateTime.UtcNow >= nextHeartbeat;
            if (await PatchAsync(heartbeat, stoppingToken).ConfigureAwait(false) && heartbeat) nextHeartbeat = DateTime.UtcNow + HeartbeatEvery;
            else if (heartbeat) nextHeartbeat = DateTime.UtcNow + TimeSpan.FromSeconds(5); // retry soon after a failure
        }
    }

    /// <summary>Sends the changed conditions (all of them on a heartbeat) as one strategic-merge PATCH of nodes/{name}/status.</summary>
    internal async Task<bool> PatchAsync(bool all, CancellationToken cancellationToken)
    {
        List<NodeConditionPatch> conditions;
        var now = DateTime.UtcNow;
        lock (_conditions)
        {
            conditions = [.. _conditions.Values.Where(s => all || s.Changed).Select(s => new NodeConditionPatch
            {
                Type = s.Type,
                Status = ProbeStatusText.Of(s.Status),
                Reason = s.Reason,
                Message = s.Message,
                LastHeartbeatTime = now,
                LastTransitionTime = s.Since,
            })];
            foreach (var s in _conditions.Values) { s.Changed = false; s.SentReason = s.Reason; }
        }
        if (conditions.Count == 0) return true;
        var body = KubernetesJson.Serialize(new NodeStatusPatch { Status = new NodeStatusConditions { Conditions = conditions } });
        try
        {
            await _client.CoreV1.PatchNodeStatusAsync(new V1Patch(body, V1Patch.PatchType.StrategicMergePatch), _nodeName, cancellationToken: cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _patches);
            PipelineMetrics.NodeConditionPatches.WithLabels("ok").Inc();
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            PipelineMetrics.NodeConditionPatches.WithLabels("error").Inc();
            _logger.LogWarning("node {Node}: patching conditions failed: {Error}; will retry", _nodeName, e.Message);
            lock (_conditions)
            {
                foreach (var c in conditions) _conditions[c.Type].Changed = true;
            }
            return false;
        }
    }

    /// <summary>NodeCondition reasons are CamelCase by convention: connection_refused -> ConnectionRefused.</summary>
    internal static string Reason(ProbeResult result, ConditionStatus status)
    {
        if (status == ConditionStatus.False) return "ProbesPassing";
        var words = result.Reason.Split('_', StringSplitOptions.RemoveEmptyEntries);
        var text = string.Concat(words.Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
        return text.Length == 0 ? "Unknown" : text;
    }

    private sealed class ConditionState(string type, ConditionStatus status, DateTime since, string reason, string message)
    {
        public string Type { get; } = type;
        public ConditionStatus Status { get; set; } = status;
        public DateTime Since { get; set; } = since;
        public string Reason { get; set; } = reason;
        public string? SentReason { get; set; } = reason;
        public string Message { get; set; } = message;
        public bool Changed { get; set; }
        public Dictionary<string, ConditionStatus> Probes { get; } = new(StringComparer.Ordinal);
    }

    private sealed class NodeStatusPatch
    {
        [JsonPropertyName("status")] public required NodeStatusConditions Status { get; init; }
    }

    private sealed class NodeStatusConditions
    {
        [JsonPropertyName("conditions")] public required List<NodeConditionPatch> Conditions { get; init; }
    }

    private sealed class NodeConditionPatch
    {
        [JsonPropertyName("type")] public required string Type { get; init; }
        [JsonPropertyName("status")] public required string Status { get; init; }
        [JsonPropertyName("reason")] public required string Reason { get; init; }
        [JsonPropertyName("message")] public required string Message { get; init; }
        [JsonPropertyName("lastHeartbeatTime")] public DateTime LastHeartbeatTime { get; init; }
        [JsonPropertyName("lastTransitionTime")] public DateTime LastTransitionTime { get; init; }
    }
}
