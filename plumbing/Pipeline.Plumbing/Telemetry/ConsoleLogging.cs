using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>JSON lines when stdout is a pipe or a file (journald, containers), readable text on a terminal.</summary>
public static class ConsoleLogging
{
    public static void Configure(ILoggingBuilder logging, LogLevel minimum = LogLevel.Information)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(minimum);
        // Confluent and Streamiz are chatty at Information; their warnings still come through.
        logging.AddFilter("Streamiz", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        if (Console.IsOutputRedirected)
        {
            logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
                o.IncludeScopes = false;
            });
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
