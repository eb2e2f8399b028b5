using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>ECS JSON lines when stderr is a pipe or a file (journald, containers, the log producer), readable text on a terminal.</summary>
public static class ConsoleLogging
{
    public static void Configure(ILoggingBuilder logging, LogLevel minimum = LogLevel.Information)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(minimum);
        // Confluent and Streamiz are chatty at Information; their warnings still come through.
        logging.AddFilter("Streamiz", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        if (Console.IsErrorRedirected)
        {
            logging.AddConsole(o => o.FormatterName = EcsConsoleFormatter.FormatterName);
            logging.AddConsoleFormatter<EcsConsoleFormatter, ConsoleFormatterOptions>();
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.IncludeScopes = false;
            });
        }
        // Logs go to stderr so stdout stays clean for alert lines and command output.
        logging.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }
}
