using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks;

namespace Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>Realistic events of every pipeline kind, serialized exactly as the producers put them on their topics.</summary>
internal static class SampleEvents
{
    private static readonly DateTimeOffset At = new(2025, 3, 14, 15, 9, 26, 535, TimeSpan.Zero);

    public static LogEvent Log(int n, string host = "web-1") => new()
    {
        Timestamp = At.AddSeconds(n),
        Event = new EventInfo { Kind = EventKinds.Event, Dataset = TopicCatalog.Logs.Dataset, Id = EventIds.ForLogLine(host, "inode-42", n * 100L, System.Text.Encoding.UTF8.GetBytes($"line {n}: connection reset by peer")) },
        Host = new HostInfo { Name = host },
        Log = new LogInfo { File = new LogFileInfo { Path = "/var/log/app.log" }, Offset = n * 100L, Level = n % 2 == 0 ? "error" : "info" },
        Message = $"line {n}: connection reset by peer",
        Labels = new Dictionary<string, string> { ["env"] = "prod", ["team"] = "payments" },
    };

    public static ProcessEvent Process(int n) => new()
    {
        Timestamp = At.AddSeconds(n),
        Event = new EventInfo { Kind = EventKinds.Metric, Dataset = TopicCatalog.Process.Dataset, Id = EventIds.FromParts("process", n.ToString()) },
        Host = new HostInfo { Name = "web-1" },
        Process = new ProcessInfo
        {
            Pid = 1000 + n,
            Parent = new ProcessParent { Pid = 1 },
            Name = "nginx",
            Executable = "/usr/sbin/nginx",
            CommandLine = "nginx: worker process",
            State = "S",
            Start = At.AddHours(-1),
            Thread = new ProcessThreads { Count = 4 },
            Cpu = new ProcessCpu { Pct = 12.5, TotalPct = 3.1 },
            Memory = new ProcessMemory { Rss = 10_485_760, Vsz = 104_857_600, Pct = 0.8 },
        },
        User = new UserInfo { Name = "www-data", Id = "33" },
    };

    public static ProbeEvent Probe(int n) => new()
    {
        Timestamp = At.AddSeconds(n),
        Event = new EventInfo { Kind = EventKinds.Event, Dataset = TopicCatalog.Probes.Dataset, Id = EventIds.FromParts("probe", n.ToString()) },
        Host = new HostInfo { Name = "web-1" },
        Probe = new ProbeInfo { Name = "root-disk", Type = "disk", Target = "/", Status = "ok", Condition = "DiskPressure", Reason = "DiskIsFine", ConditionStatus = "False", DurationMs = 1.25, Value = 71.5 },
        Message = "/ is 71.5% full",
    };

    public static AlertEvent Alert(int n) => new()
    {
        Timestamp = At.AddSeconds(n),
        Event = new EventInfo { Kind = EventKinds.Alert, Dataset = TopicCatalog.Alerts.Dataset, Id = EventIds.FromParts("alert", n.ToString()), Severity = 3 },
        Host = new HostInfo { Name = "web-1" },
        Alert = new AlertInfo
        {
            Name = "error-burst",
            Status = AlertStatus.Firing,
            Severity = "warning",
            Fingerprint = "f00d",
            Value = 120,
            Threshold = 100,
            Op = ">=",
            Window = "1m",
            Source = "logs",
            Group = new Dictionary<string, string> { ["host.name"] = "web-1" },
            StartedAt = At,
        },
        Message = "120 error lines in 1m on web-1 (threshold 100)",
    };

    public static DeadLetterEvent DeadLetter(int n) => new()
    {
        Timestamp = At.AddSeconds(n),
        Event = new EventInfo { Kind = EventKinds.Event, Dataset = TopicCatalog.DeadLetter.Dataset, Id = EventIds.FromParts("dl", n.ToString()) },
        Host = new HostInfo { Name = "web-1" },
        Error = new ErrorInfo { Type = "mapping_exception", Message = "failed to parse field [log.offset]" },
        DeadLetter = new DeadLetterInfo
        {
            Stage = "sinks.elasticsearch",
            Reason = "mapping_exception",
            Source = new DeadLetterSource { Topic = TopicCatalog.Logs.Name, Partition = 2, Offset = 77 },
            Original = Convert.ToBase64String("{\"broken\":"u8),
        },
    };

    /// <summary>Log lines as sink records bound for <c>logs-ops.logs-{namespace}</c>.</summary>
    public static List<SinkRecord> LogRecords(int count, string @namespace = "default", int first = 0) =>
        [.. Enumerable.Range(first, count).Select(n => Record(TopicCatalog.Logs, EventSerializer.Serialize(Log(n)), Log(n).Event.Id, @namespace, n))];

    /// <summary>One record of every topic, each bound for its own data stream.</summary>
    public static List<SinkRecord> OneOfEachKind(string @namespace = "default") =>
    [
        Record(TopicCatalog.Logs, EventSerializer.Serialize(Log(1)), Log(1).Event.Id, @namespace),
        Record(TopicCatalog.Process, EventSerializer.Serialize(Process(1)), Process(1).Event.Id, @namespace),
        Record(TopicCatalog.Probes, EventSerializer.Serialize(Probe(1)), Probe(1).Event.Id, @namespace),
        Record(TopicCatalog.Alerts, EventSerializer.Serialize(Alert(1)), Alert(1).Event.Id, @namespace),
        Record(TopicCatalog.DeadLetter, EventSerializer.Serialize(DeadLetter(1)), DeadLetter(1).Event.Id, @namespace),
    ];

    public static SinkRecord Record(TopicSpec topic, byte[] value, string id, string @namespace = "default", long offset = 0) =>
        new(topic.Name, 0, offset, value, id, topic.DataStream(@namespace));
}
