using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Pipeline.Plumbing.Kafka;

/// <summary>Routes librdkafka's own log lines into the process's structured log instead of raw stderr.</summary>
public static class KafkaLog
{
    public static Action<IClient, LogMessage> To(ILogger logger) => (_, m) => Write(logger, (int)m.Level, m.Name, m.Facility, m.Message);

    /// <summary>One librdkafka log line at its syslog level (0 emergency … 7 debug).</summary>
    public static void Write(ILogger logger, int syslogLevel, string client, string facility, string message)
    {
        var level = (SyslogLevel)syslogLevel switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical or SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            // Connection churn is logged at Info by librdkafka; it is noise unless it persists (errors then follow).
            _ => LogLevel.Debug,
        };
        logger.Log(level, "librdkafka {Client} {Facility}: {Message}", client, facility, message);
    }
}
