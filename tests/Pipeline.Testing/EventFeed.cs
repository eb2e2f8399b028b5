using System.Text;
using Confluent.Kafka;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;

namespace Pipeline.Testing;

/// <summary>Puts pipeline events on a broker's topics from a test, keyed by host as the producers key them.</summary>
public sealed class EventFeed(string bootstrap) : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private readonly IProducer<byte[], byte[]> _producer =
        new ProducerBuilder<byte[], byte[]>(new KafkaSettings(new KafkaConfig(), bootstrap, embedded: true).Producer("test-feed")).Build();

    /// <summary>A log event with a stable id; its host is one of <paramref name="hosts"/> so the records spread over partitions.</summary>
    public static LogEvent Log(int n, int hosts = 24, string? level = null, string host = "")
    {
        var name = host.Length > 0 ? host : $"host-{n % hosts}";
        var message = $"line {n}: GET /api/orders/{n} 200 in {n % 97} ms from 10.0.{n % 251}.{n % 13} user-agent=curl/8.5";
        return new LogEvent
        {
            Timestamp = Start.AddMilliseconds(n),
            Event = new EventInfo { Kind = EventKinds.Event, Dataset = TopicCatalog.Logs.Dataset, Id = EventIds.ForLogLine(name, "feed", n, Encoding.UTF8.GetBytes(message)) },
            Host = new HostInfo { Name = name },
            Log = new LogInfo { File = new LogFileInfo { Path = "/var/log/app.log" }, Offset = n, Level = level ?? (n % 10 == 0 ? "error" : "info") },
            Message = message,
        };
    }

    public void Logs(int count, int first = 0, Func<int, LogEvent>? make = null)
    {
        for (int n = first; n < first + count; n++)
        {
            var e = make is null ? Log(n) : make(n);
            Produce(TopicCatalog.Logs, e.Host.Name, EventSerializer.Serialize(e));
        }
        Flush();
    }

    public void Produce(TopicSpec topic, string key, byte[] value)
    {
        while (true)
        {
            try
            {
                _producer.Produce(topic.Name, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(key), Value = value });
                return;
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                _producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    public void Flush() => _producer.Flush(TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        Flush();
        _producer.Dispose();
    }
}
