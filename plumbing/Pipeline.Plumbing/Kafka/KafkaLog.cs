using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Pipeline.Plumbing.Kafka;

/// <summary>Routes librdkafka's own log lines into the process's structured log instead of raw stderr.</summary>
public static class KafkaLog
{
    public static Action<IClient, LogMessage> To(ILogger logger) => (_, m) =>
    {
        var level = m.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical or SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        // Connection churn is logged at Info by librdkafka; it is noise unless it persists (errors then follow).
        if (level == LogLevel.Information) level = LogLevel.Debug;
        logger.Log(level, "librdkafka {Client} {Facility}: {Message}", m.Name, m.Facility, m.Message);
    };
}
