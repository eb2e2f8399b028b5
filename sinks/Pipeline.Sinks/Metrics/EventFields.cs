using System.Text.Json;

namespace Pipeline.Sinks.Metrics;

/// <summary>
/// The few fields of an event the exporter turns into series, read straight from the UTF-8 JSON with
/// <see cref="Utf8JsonReader"/> (no document, no per-event objects): one instance is reset and refilled per event.
/// String values are interned, so steady-state events allocate nothing here.
/// </summary>
internal sealed class EventFields(LabelInterner interner)
{
    private const int MaxDepth = 8;
    private const int MaxPath = 256;

    public bool IsMetric;
    public bool IsOomKill;
    public string? Host;
    // logs
    public string? Level;
    public string? Service;
    public string? FileService;
    // process
    public int Pid = -1;
    public string? ProcessName;
    public double CpuTotalPct = double.NaN;
    public double Rss = double.NaN;
    // probes
    public string? ProbeName;
    public string? ProbeStatus;
    public string? Condition;
    public double DurationMs = double.NaN;
    // alerts
    public string? AlertName;
    public string? AlertStatus;
    public string? Severity;
    public string? Fingerprint;
    public string? GroupHost;

    /// <summary>Reads <paramref name="json"/>; false when it is not a JSON object (such records are the sink's to dead-letter, not ours).</summary>
    public bool Read(ReadOnlySpan<byte> json)
    {
        Reset();
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            Span<byte> path = stackalloc byte[MaxPath];
            Span<int> lengths = stackalloc int[MaxDepth];
            int depth = 0, length = 0;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.EndObject:
                        if (depth == 0) return true;
                        length = lengths[--depth];
                        break;
                    case JsonTokenType.PropertyName:
                        int nameLength = AppendName(ref reader, path, length);
                        reader.Read();
                        if (nameLength < 0)
                        {
                            reader.TrySkip(); // a path too long for anything we read
                        }
                        else if (reader.TokenType == JsonTokenType.StartObject)
                        {
                            if (depth == MaxDepth || nameLength + 1 >= MaxPath) { reader.TrySkip(); break; }
                            lengths[depth++] = length;
                            path[nameLength] = (byte)'.';
                            length = nameLength + 1;
                        }
                        else if (reader.TokenType == JsonTokenType.StartArray)
                        {
                            reader.TrySkip();
                        }
                        else
                        {
                            Capture(path[..nameLength], ref reader);
                        }
                        break;
                }
            }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private void Reset()
    {
        IsMetric = false;
        IsOomKill = false;
        Host = Level = Service = FileService = ProcessName = ProbeName = ProbeStatus = Condition = null;
        AlertName = AlertStatus = Severity = Fingerprint = GroupHost = null;
        Pid = -1;
        CpuTotalPct = Rss = DurationMs = double.NaN;
    }

    // Appends the property name to the path; returns the new length, or -1 when it does not fit.
    private static int AppendName(ref Utf8JsonReader reader, scoped Span<byte> path, int length)
    {
        if (!reader.ValueIsEscaped)
        {
            var name = reader.ValueSpan;
            if (length + name.Length >= MaxPath) return -1;
            name.CopyTo(path[length..]);
            return length + name.Length;
        }
        var unescaped = path[length..^1];
        if (reader.ValueSpan.Length > unescaped.Length) return -1;
        return length + reader.CopyString(unescaped);
    }

    private void Capture(scoped ReadOnlySpan<byte> path, ref Utf8JsonReader reader)
    {
        // SequenceEqual compares lengths first, so a miss costs little; events have a dozen or two scalar fields.
        if (path.SequenceEqual("host.name"u8)) Host = Text(ref reader);
        else if (path.SequenceEqual("log.level"u8)) Level = Text(ref reader);
        else if (path.SequenceEqual("event.kind"u8)) IsMetric = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("metric"u8);
        else if (path.SequenceEqual("alert.name"u8)) AlertName = Text(ref reader);
        else if (path.SequenceEqual("probe.name"u8)) ProbeName = Text(ref reader);
        else if (path.SequenceEqual("process.pid"u8)) Pid = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var pid) ? pid : -1;
        else if (path.SequenceEqual("event.action"u8)) IsOomKill = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("oom_kill"u8);
        else if (path.SequenceEqual("process.name"u8)) ProcessName = Text(ref reader);
        else if (path.SequenceEqual("probe.status"u8)) ProbeStatus = Text(ref reader);
        else if (path.SequenceEqual("alert.status"u8)) AlertStatus = Text(ref reader);
        else if (path.SequenceEqual("log.file.path"u8)) FileService = FileStem(ref reader);
        else if (path.SequenceEqual("labels.service"u8)) Service = Text(ref reader);
        else if (path.SequenceEqual("alert.severity"u8)) Severity = Text(ref reader);
        else if (path.SequenceEqual("probe.condition"u8)) Condition = Text(ref reader);
        else if (path.SequenceEqual("alert.fingerprint"u8)) Fingerprint = Text(ref reader);
        else if (path.SequenceEqual("probe.duration_ms"u8)) DurationMs = Number(ref reader);
        else if (path.SequenceEqual("process.memory.rss"u8)) Rss = Number(ref reader);
        else if (path.SequenceEqual("alert.group.host.name"u8)) GroupHost = Text(ref reader);
        else if (path.SequenceEqual("process.cpu.total_pct"u8)) CpuTotalPct = Number(ref reader);
    }

    private string? Text(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String) return null;
        Span<char> buffer = stackalloc char[256];
        // UTF-8 never takes fewer bytes than UTF-16 chars, and unescaping only shortens: the byte length bounds the chars.
        if (reader.ValueSpan.Length > buffer.Length) return reader.GetString();
        int n = reader.CopyString(buffer);
        return interner.Intern(buffer[..n]);
    }

    private static double Number(ref Utf8JsonReader reader)
        => reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var value) ? value : double.NaN;

    // "/var/log/nginx/access.log" -> "access": what a log line is about when the input sets no labels.service.
    private string? FileStem(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length > 1024) return null;
        Span<char> buffer = stackalloc char[1024];
        var path = buffer[..reader.CopyString(buffer)];
        var name = path[(path.LastIndexOf('/') + 1)..];
        int dot = name.IndexOf('.');
        if (dot > 0) name = name[..dot];
        return name.IsEmpty ? null : interner.Intern(name);
    }
}
