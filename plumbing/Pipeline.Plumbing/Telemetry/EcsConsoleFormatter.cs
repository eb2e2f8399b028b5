using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// One ECS JSON object per line: <c>@timestamp</c>, <c>log.level</c>, <c>log.logger</c>, <c>service.name</c>,
/// <c>host.name</c>, <c>message</c>, <c>error.type</c>/<c>error.message</c>/<c>error.stack_trace</c>, and
/// <c>trace.id</c>/<c>span.id</c> inside a traced operation, plus the message template's named values.
/// Hand-written because the built-in JSON formatter's field names are fixed and not ECS, so the
/// pipeline's own logs could not be searched with the same fields as everything else in Kibana.
/// </summary>
public sealed class EcsConsoleFormatter : ConsoleFormatter
{
    public const string FormatterName = "ecs";

    public EcsConsoleFormatter() : base(FormatterName) { }

    /// <summary><c>service.name</c> on every line; set once at startup (e.g. <c>pipeline-agent</c>).</summary>
    public static string ServiceName { get; set; } = "pipeline";

    public static string HostName { get; set; } = Environment.MachineName;

    public override void Write<TState>(in LogEntry<TState> logEntry, Microsoft.Extensions.Logging.IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null) return;
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("@timestamp", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("log.level", Level(logEntry.LogLevel));
            w.WriteString("log.logger", logEntry.Category);
            w.WriteString("service.name", ServiceName);
            w.WriteString("host.name", HostName);
            w.WriteString("message", message);
            var activity = Activity.Current;
            if (activity is not null)
            {
                w.WriteString("trace.id", activity.TraceId.ToHexString());
                w.WriteString("span.id", activity.SpanId.ToHexString());
            }
            if (logEntry.Exception is { } e)
            {
                w.WriteString("error.type", e.GetType().FullName);
                w.WriteString("error.message", e.Message);
                w.WriteString("error.stack_trace", e.ToString());
            }
            if (logEntry.State is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    if (key == "{OriginalFormat}") continue;
                    // Template values go under labels.*: flat, bounded, and never clashing with ECS fields.
                    w.WriteString("labels." + key, value switch
                    {
                        null => "",
                        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                        _ => value.ToString(),
                    });
                }
            }
            w.WriteEndObject();
        }
        textWriter.Write(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write('\n');
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "fatal",
        _ => "info",
    };
}
