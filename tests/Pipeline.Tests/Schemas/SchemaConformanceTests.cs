using System.Text;
using System.Text.Json;
using Json.Schema;
using Pipeline.Producers.Logs;
using Pipeline.Producers.Process;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;

namespace Pipeline.Tests.Schemas;

/// <summary>What the serializers really write must satisfy the schema files users read.</summary>
public class SchemaConformanceTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    // Each file is parsed once, into a registry of its own: JsonSchema.Net's global one refuses a second
    // schema with the same $id, and other test classes parse the same files for themselves.
    private static readonly Dictionary<string, JsonSchema> Parsed = [];

    /// <summary>
    /// Parses a schema that is not a topic's (the NodeProbe CRD's) once, the same way.
    /// </summary>
    internal static JsonSchema Schema(string key, Func<string> text)
    {
        lock (Parsed)
        {
            if (!Parsed.TryGetValue(key, out var schema)) Parsed[key] = schema = JsonSchema.FromText(text(), OwnRegistry());
            return schema;
        }
    }

    internal static JsonSchema Schema(string schemaFile)
    {
        lock (Parsed)
        {
            if (!Parsed.TryGetValue(schemaFile, out var schema))
                Parsed[schemaFile] = schema = JsonSchema.FromText(EventSerializer.SchemaText(schemaFile), OwnRegistry());
            return schema;
        }
    }

    private static BuildOptions OwnRegistry() => new() { SchemaRegistry = new SchemaRegistry() };

    private static EvaluationResults Validate(string schemaFile, byte[] json)
    {
        var schema = Schema(schemaFile);
        using var doc = JsonDocument.Parse(json);
        return schema.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
    }

    private static void AssertValid(TopicSpec topic, byte[] json)
    {
        var result = Validate(topic.SchemaFile, json);
        var errors = (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
        Assert.True(result.IsValid, $"{topic.Name}: {Encoding.UTF8.GetString(json)}\n{string.Join("\n", errors)}");
    }

    [Fact]
    public void EveryTopicInTheCatalogHasASchemaFile()
    {
        foreach (var topic in TopicCatalog.All)
        {
            Assert.NotNull(Schema(topic.SchemaFile));
            Assert.True(File.Exists(Path.Combine(Pipeline.Testing.RepositoryRoot.Path, "schemas", "json", topic.SchemaFile)), topic.SchemaFile);
        }
    }

    [Fact]
    public void TheLogTailersEncoderWritesValidLogEvents()
    {
        var encoder = new LogEventEncoder("web-1", new Dictionary<string, string> { ["team"] = "payments" }, ["prod"]);
        var flags = LineFlags.Truncated;
        byte[] raw = [.. "2026-11-27 ERROR db \"down\" "u8, 0xff, 0xfe];
        var line = LogEventEncoder.Sanitize(raw, ref flags);
        var json = encoder.Encode(line, 1234, "/var/log/app.log", "fe:42:0", Now, flags);
        AssertValid(TopicCatalog.Logs, json);
        var e = EventSerializer.Deserialize(json, EventJsonContext.Default.LogEvent);
        Assert.Equal("error", e.Log.Level);
        Assert.Equal(1234, e.Log.Offset);
        Assert.Equal(["truncated", "invalid_utf8"], e.Log.Flags);
        Assert.Equal("payments", e.Labels!["team"]);
        Assert.Equal(EventIds.ForLogLine("web-1", "fe:42:0", 1234, line), e.Event.Id);
    }

    [Fact]
    public void AlertsDeadLettersProcessAndProbeEventsAreValid()
    {
        var alert = new AlertEvent
        {
            Timestamp = Now,
            Event = new EventInfo { Kind = EventKinds.Alert, Dataset = "ops.alerts", Id = EventIds.FromParts("a"), Severity = 2 },
            Host = new HostInfo { Name = "web-1" },
            Alert = new AlertInfo
            {
                Name = "errors", Status = AlertStatus.Firing, Severity = "warning", Fingerprint = EventIds.FromParts("f"),
                Value = 120, Threshold = 100, Op = ">=", Window = "1m", Source = "logs",
                Group = new Dictionary<string, string> { ["host.name"] = "web-1" }, StartedAt = Now,
            },
            Message = "120 error lines in 1m",
        };
        AssertValid(TopicCatalog.Alerts, EventSerializer.Serialize(alert));
        AssertValid(TopicCatalog.DeadLetter, DeadLetters.Serialize("{oops"u8, "ops.logs.v1", 2, 77, "processors", "invalid_json", "bad", "web-1", Now));
        AssertValid(TopicCatalog.Process, EventSerializer.Serialize(new ProcessEvent
        {
            Timestamp = Now,
            Event = new EventInfo { Kind = EventKinds.Metric, Dataset = "ops.process", Id = EventIds.FromParts("p") },
            Host = new HostInfo { Name = "web-1" },
            Process = new ProcessInfo { Pid = 1, Name = "init", Parent = new ProcessParent { Pid = 0 }, Cpu = new ProcessCpu { Pct = 1.5, TotalPct = 0.75 } },
        }));
        AssertValid(TopicCatalog.Probes, EventSerializer.Serialize(new ProbeEvent
        {
            Timestamp = Now,
            Event = new EventInfo { Kind = EventKinds.Event, Dataset = "ops.probes", Id = EventIds.FromParts("q") },
            Host = new HostInfo { Name = "web-1" },
            Probe = new ProbeInfo { Name = "root-disk", Type = "disk", Target = "/", Status = "ok", DurationMs = 1.2, Value = 40 },
            Message = "40% used",
        }));
    }

    [Fact]
    public void TheProcessEncoderWritesValidSamplesLifecycleAndOomEventsWithEveryField()
    {
        const string container = "3f2a9c6e1b7d4e8fa0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3";
        var p = new ProcessRecord
        {
            Pid = 4242, Ppid = 1, Name = "java", Executable = "/usr/bin/java", CommandLine = "java -jar app.jar", Args = ["java", "-jar", "app.jar"],
            Uid = 1000, User = "app", State = 'S', StartTicks = 123456, Start = Now.AddHours(-1), Threads = 40, Nice = -5,
            CpuPct = 150.25, CpuTotalPct = 75.13, RssBytes = 1 << 30, VirtualBytes = 4L << 30, MemoryPct = 6.25,
            ReadBytes = 4096, WriteBytes = 8192, FdCount = 120,
            Cgroup = CgroupLabels.Parse($"0::/kubepods.slice/kubepods-pod0b3a1c2d_4e5f_6789_abcd_ef0123456789.slice/cri-containerd-{container}.scope\n"),
        };
        p.Labels = new LabelRules([new Pipeline.Plumbing.Config.ProcessLabelRule { Name = "java", Set = { ["app"] = "billing" } }]).LabelsFor(p);
        var encoder = new ProcessEventEncoder("web-1");
        foreach (var e in new[] { encoder.Sample(p, Now), encoder.Started(p, Now), encoder.Exited(p, Now) })
        {
            var json = EventSerializer.Serialize(e);
            AssertValid(TopicCatalog.Process, json);
            var back = EventSerializer.Deserialize(json, EventJsonContext.Default.ProcessEvent);
            Assert.Equal((container, "containerd"), (back.Container!.Id, back.Container.Runtime));
            Assert.Equal(("kubernetes", "pod", "0b3a1c2d-4e5f-6789-abcd-ef0123456789"), (back.Orchestrator!.Type, back.Orchestrator.Resource.Type, back.Orchestrator.Resource.Id));
            Assert.Equal((4096L, 8192L, 120, -5), (back.Process.Io!.ReadBytes, back.Process.Io.WriteBytes, back.Process.FdCount, back.Process.Nice));
            Assert.Equal("billing", back.Labels!["app"]);
            Assert.Equal(["java", "-jar", "app.jar"], back.Process.Args!);
        }
        Assert.Equal(EventKinds.Metric, encoder.Sample(p, Now).Event.Kind);
        Assert.Equal(encoder.Sample(p, Now).Event.Id, encoder.Sample(p, Now).Event.Id); // deterministic
        Assert.NotEqual(encoder.Sample(p, Now).Event.Id, encoder.Sample(p, Now.AddSeconds(10)).Event.Id);

        var known = encoder.OomKill(new OomKill { Source = "kmsg", Sources = ["kmsg", "vmstat"], At = Now, Key = "kmsg:4242:1", Pid = 4242, Name = "java", Uid = 1000, RssBytes = 1 << 30 }, p);
        var unknown = encoder.OomKill(new OomKill { Source = "vmstat", Sources = ["vmstat"], At = Now, Key = "vmstat:7" }, null);
        foreach (var e in new[] { known, unknown })
        {
            AssertValid(TopicCatalog.Process, EventSerializer.Serialize(e));
            Assert.Equal((EventKinds.Event, ProcessActions.OomKill), (e.Event.Kind, e.Event.Action));
        }
        Assert.Equal((4242, container), (known.Process.Pid, known.Container!.Id));
        Assert.Equal("kmsg", known.Labels!["oom_source"]);
        Assert.Equal((0, "unknown"), (unknown.Process.Pid, unknown.Process.Name));
    }

    [Fact]
    public void AProbeStateEventWithReasonAndConditionStatusIsValid()
    {
        var json = EventSerializer.Serialize(new ProbeEvent
        {
            Timestamp = Now,
            Event = new EventInfo { Kind = EventKinds.State, Dataset = "ops.probes", Id = EventIds.FromParts("node-1", "kubelet", "1"), Action = "condition_changed", Severity = 3 },
            Host = new HostInfo { Name = "node-1" },
            Probe = new ProbeInfo
            {
                Name = "kubelet", Type = "http", Target = "http://127.0.0.1:10248/healthz", Status = "problem", Reason = "connection_refused",
                Condition = "KubeletUnhealthy", ConditionStatus = "True", DurationMs = 0.4,
            },
            Message = "connection refused",
        });
        AssertValid(TopicCatalog.Probes, json);
        var bad = Encoding.UTF8.GetString(json).Replace("\"True\"", "\"yes\"", StringComparison.Ordinal);
        Assert.False(Validate(TopicCatalog.Probes.SchemaFile, Encoding.UTF8.GetBytes(bad)).IsValid);
    }

    [Fact]
    public void TheSchemasRejectADocumentThatBreaksTheContract()
    {
        var bad = Encoding.UTF8.GetBytes("""{"@timestamp":"yesterday","event":{"kind":"event","dataset":"ops.logs","id":"x"},"log":{"file":{"path":"/a"},"offset":-1},"message":"m"}""");
        var result = Validate(TopicCatalog.Logs.SchemaFile, bad);
        Assert.False(result.IsValid);
    }

    [Fact]
    public void DeadLettersKeepTheOriginalBytesAndWhereTheyCameFrom()
    {
        var original = new byte[] { 0, 1, 2, 255 };
        var json = DeadLetters.Serialize(original, "ops.logs.v1", 3, 99, "processors", "invalid_json", "not JSON", "h", Now);
        var d = EventSerializer.Deserialize(json, EventJsonContext.Default.DeadLetterEvent);
        Assert.Equal(original, Convert.FromBase64String(d.DeadLetter.Original));
        Assert.Equal(("ops.logs.v1", 3, 99L), (d.DeadLetter.Source.Topic, d.DeadLetter.Source.Partition, d.DeadLetter.Source.Offset));
    }
}
