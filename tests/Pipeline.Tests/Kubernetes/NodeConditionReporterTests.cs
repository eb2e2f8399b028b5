using System.Text.Json.Nodes;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Kubernetes;
using Pipeline.Plumbing.Config;
using Pipeline.Producers.Probes;
using Pipeline.Testing;
using Pipeline.Testing.Kubernetes;
using Pipeline.Tests.Producers.Probes;

namespace Pipeline.Tests.Kubernetes;

/// <summary>The agent's NodeConditions on its own node, through the official client and the tests' API server.</summary>
[Collection(Pipeline.Tests.Producers.Probes.ProbeTimingCollection.Name)]
public sealed class NodeConditionReporterTests : IAsyncLifetime
{
    private static readonly DateTime AnHourAgo = WholeSeconds(DateTime.UtcNow.AddHours(-1));

    private static DateTime WholeSeconds(DateTime t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    private KubernetesApiTestServer _api = null!;
    private IKubernetes _client = null!;

    public async ValueTask InitializeAsync()
    {
        _api = await KubernetesApiTestServer.StartAsync(TestContext.Current.CancellationToken);
        _client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _api.Url.ToString() });
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _api.DisposeAsync();
    }

    private static ScheduledProbe Probe(string name, string condition, int failureThreshold = 1, Dictionary<string, string>? selector = null)
    {
        var config = new ProbeConfig { Name = name, Type = "tcp", Target = "127.0.0.1:1", Condition = condition, FailureThreshold = failureThreshold, NodeSelector = selector ?? [] };
        return new ScheduledProbe(config, ScriptedProbe.Sequence(ProbeStatus.Ok));
    }

    private static ProbeReport Run(ScheduledProbe probe, ProbeStatus status, DateTimeOffset? at = null)
    {
        var time = at ?? DateTimeOffset.UtcNow;
        bool flipped = probe.Condition.Observe(status, time);
        var result = status == ProbeStatus.Ok ? ProbeResult.Ok("fine") : new ProbeResult(status, ProbeReasons.ConnectionRefused, "127.0.0.1:1: connection refused");
        return new ProbeReport(probe, time, result, 1, probe.Condition.Status, probe.Condition.LastTransition, flipped);
    }

    private JsonNode ConditionOnNode(string type)
        => _api.Node("node-1")!["status"]!["conditions"]!.AsArray().Single(c => c!["type"]!.GetValue<string>() == type)!;

    [Fact]
    public async Task ARestartKeepsTheConditionAndItsTransitionTime()
    {
        _api.PutNode("node-1", new() { ["kubernetes.io/os"] = "linux" }, new JsonArray(
            new JsonObject { ["type"] = "Ready", ["status"] = "True" },
            new JsonObject { ["type"] = "DatabaseUnreachable", ["status"] = "True", ["reason"] = "ConnectionRefused", ["message"] = "before the restart", ["lastTransitionTime"] = AnHourAgo.ToString("yyyy-MM-ddTHH:mm:ssZ") }));
        var node = await NodeConditionReporter.ReadNodeAsync(_client, "node-1", TestContext.Current.CancellationToken);
        var probe = Probe("db", "DatabaseUnreachable", failureThreshold: 3);
        using var reporter = new NodeConditionReporter(_client, node, [probe], NullLogger.Instance);
        Assert.Equal(ConditionStatus.True, probe.Condition.Status);

        // One problem after the restart: below failure_threshold, but the condition was already True and stays so.
        var report = Run(probe, ProbeStatus.Problem);
        Assert.False(report.ConditionFlipped);
        reporter.Report(report);
        Assert.True(await reporter.PatchAsync(all: true, TestContext.Current.CancellationToken));

        var c = ConditionOnNode("DatabaseUnreachable");
        Assert.Equal("True", c["status"]!.GetValue<string>());
        Assert.Equal(AnHourAgo, c["lastTransitionTime"]!.GetValue<DateTime>().ToUniversalTime());
        Assert.True(c["lastHeartbeatTime"]!.GetValue<DateTime>() > AnHourAgo.AddMinutes(59));
        Assert.Equal("True", _api.Node("node-1")!["status"]!["conditions"]![0]!["status"]!.GetValue<string>()); // Ready untouched
        Assert.Contains(_api.Calls, call => call is { Verb: "patch", Resource: "nodes", Subresource: "status" } && call.ContentType.StartsWith("application/strategic-merge-patch+json", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheTransitionTimeMovesOnlyWhenTheStatusFlips()
    {
        _api.PutNode("node-1", new() { ["kubernetes.io/os"] = "linux" });
        var node = await NodeConditionReporter.ReadNodeAsync(_client, "node-1", TestContext.Current.CancellationToken);
        var probe = Probe("db", "DatabaseUnreachable");
        using var reporter = new NodeConditionReporter(_client, node, [probe], NullLogger.Instance);
        await reporter.StartAsync(TestContext.Current.CancellationToken);

        var t1 = DateTimeOffset.UtcNow.AddSeconds(-30);
        reporter.Report(Run(probe, ProbeStatus.Problem, t1));
        // Before any result the condition is announced as Unknown; then the problem makes it True.
        await Eventually.True(() => _api.Node("node-1")!["status"]!["conditions"]!.AsArray().Any(c => c!["status"]!.GetValue<string>() == "True"), TimeSpan.FromSeconds(10), "condition True");
        var first = ConditionOnNode("DatabaseUnreachable");
        Assert.Equal(("True", "ConnectionRefused"), (first["status"]!.GetValue<string>(), first["reason"]!.GetValue<string>()));
        var since = first["lastTransitionTime"]!.GetValue<DateTime>();

        reporter.Report(Run(probe, ProbeStatus.Problem, t1.AddSeconds(10)));
        await reporter.PatchAsync(all: true, TestContext.Current.CancellationToken);
        Assert.Equal(since, ConditionOnNode("DatabaseUnreachable")["lastTransitionTime"]!.GetValue<DateTime>());

        reporter.Report(Run(probe, ProbeStatus.Ok, t1.AddSeconds(20)));
        await Eventually.True(() => ConditionOnNode("DatabaseUnreachable")["status"]!.GetValue<string>() == "False", TimeSpan.FromSeconds(10), "condition cleared");
        Assert.True(ConditionOnNode("DatabaseUnreachable")["lastTransitionTime"]!.GetValue<DateTime>() > since);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await reporter.StopAsync(timeout.Token);
    }

    [Fact]
    public async Task TwoProbesOfOneConditionMakeItTrueWhenEitherSaysSo()
    {
        _api.PutNode("node-1", []);
        var node = await NodeConditionReporter.ReadNodeAsync(_client, "node-1", TestContext.Current.CancellationToken);
        var root = Probe("root", "DiskPressure");
        var data = Probe("data", "DiskPressure");
        using var reporter = new NodeConditionReporter(_client, node, [root, data], NullLogger.Instance);
        reporter.Report(Run(root, ProbeStatus.Ok));
        reporter.Report(Run(data, ProbeStatus.Problem));
        reporter.Report(Run(root, ProbeStatus.Ok));
        await reporter.PatchAsync(all: true, TestContext.Current.CancellationToken);
        Assert.Equal("True", ConditionOnNode("DiskPressure")["status"]!.GetValue<string>());
        Assert.StartsWith("data:", ConditionOnNode("DiskPressure")["message"]!.GetValue<string>());
    }

    [Fact]
    public void ANodeRunsOnlyTheProbesWhoseSelectorItsLabelsSatisfy()
    {
        var node = new k8s.Models.V1Node { Metadata = new k8s.Models.V1ObjectMeta { Name = "n", Labels = new Dictionary<string, string> { ["pool"] = "gpu", ["zone"] = "a" } } };
        var probes = new List<ProbeConfig>
        {
            new() { Name = "everywhere" },
            new() { Name = "gpu", NodeSelector = new() { ["pool"] = "gpu" } },
            new() { Name = "gpu-zone-b", NodeSelector = new() { ["pool"] = "gpu", ["zone"] = "b" } },
        };
        Assert.Equal(["everywhere", "gpu"], NodeConditionReporter.ProbesFor(node, probes).Select(p => p.Name));
    }
}
