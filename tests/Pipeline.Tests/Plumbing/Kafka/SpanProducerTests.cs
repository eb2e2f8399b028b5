using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;

namespace Pipeline.Tests.Plumbing.Kafka;

/// <summary>
/// The log tailer's thin producer, read back with Confluent.Kafka's consumer (an independent client): what
/// was sent from a span arrives whole, and each record's report brings back its own token exactly once.
/// </summary>
public class SpanProducerTests
{
    private const string Topic = "span-producer-test";

    [Fact]
    public void RecordsArriveWithKeyValueTimestampAndHeadersAndEachTokenIsReportedOnce()
    {
        using var broker = new EmbeddedBroker();
        broker.CreateTopic(Topic, 1);
        var settings = new KafkaSettings(new KafkaConfig(), broker.Bootstrap, embedded: true);
        var reports = new ConcurrentDictionary<long, ErrorCode>();
        var duplicates = 0;
        using (var producer = new SpanProducer(settings.Producer("span-test"), NullLogger.Instance, (token, error) =>
               {
                   if (!reports.TryAdd(token, error)) Interlocked.Increment(ref duplicates);
               }))
        {
            var topic = producer.Topic(Topic);
            Assert.Equal(topic, producer.Topic(Topic)); // one handle per topic
            var buffer = new byte[64];
            var headers = new Headers { { "traceparent", Encoding.ASCII.GetBytes("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") } };
            for (int i = 0; i < 1000; i++)
            {
                // The same buffer for every record: librdkafka must have copied each one before Produce returned.
                int n = Encoding.UTF8.GetBytes($"{{\"n\":{i}}}", buffer);
                var error = producer.Produce(topic, "host-a"u8, buffer.AsSpan(0, n), 1_700_000_000_000 + i, token: 10_000 + i, i % 100 == 0 ? headers : null);
                Assert.Equal(ErrorCode.NoError, error);
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(20)));
        }
        Assert.Equal(1000, reports.Count);
        Assert.Equal(0, duplicates);
        Assert.All(reports, r => Assert.Equal(ErrorCode.NoError, r.Value));
        Assert.Equal(Enumerable.Range(10_000, 1000).Select(i => (long)i), reports.Keys.Order());

        using var consumer = new ConsumerBuilder<byte[], byte[]>(settings.Consumer("span-test", "span-test-" + Guid.NewGuid())).Build();
        consumer.Assign(new TopicPartitionOffset(Topic, 0, Offset.Beginning));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        for (int i = 0; i < 1000; i++)
        {
            ConsumeResult<byte[], byte[]>? result = null;
            while (result is null && DateTime.UtcNow < deadline) result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            Assert.NotNull(result);
            Assert.Equal("host-a", Encoding.UTF8.GetString(result.Message.Key));
            Assert.Equal($"{{\"n\":{i}}}", Encoding.UTF8.GetString(result.Message.Value));
            Assert.Equal(1_700_000_000_000 + i, result.Message.Timestamp.UnixTimestampMs);
            if (i % 100 == 0)
            {
                Assert.True(result.Message.Headers.TryGetLastBytes("traceparent", out var traceparent));
                Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Encoding.ASCII.GetString(traceparent));
            }
            else
            {
                Assert.Empty(result.Message.Headers ?? []);
            }
        }
    }

    [Fact]
    public void ARecordThatCannotBeDeliveredIsReportedWithItsErrorAndAFullQueueRefusesTheNext()
    {
        using var broker = new EmbeddedBroker();
        broker.CreateTopic(Topic, 1);
        var settings = new KafkaSettings(new KafkaConfig(), broker.Bootstrap, embedded: true);
        var config = new ProducerConfig(settings.Producer("span-test")) { MessageTimeoutMs = 1000, QueueBufferingMaxMessages = 1 };
        broker.SetBrokerDown(1);
        var reports = new ConcurrentDictionary<long, ErrorCode>();
        using var producer = new SpanProducer(config, NullLogger.Instance, (token, error) => reports[token] = error);
        var topic = producer.Topic(Topic);
        Assert.Equal(ErrorCode.NoError, producer.Produce(topic, "k"u8, "first"u8, 0, token: 1));
        // Refused before it was queued: the caller gets the reason, and no report will come for it.
        Assert.Equal(ErrorCode.Local_QueueFull, producer.Produce(topic, "k"u8, "second"u8, 0, token: 2));
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(20)));
        Assert.Equal(ErrorCode.Local_MsgTimedOut, Assert.Single(reports, r => r.Key == 1).Value);
        Assert.DoesNotContain(2L, reports.Keys);
    }

    [Fact]
    public void AnUnknownSettingIsRefusedWithItsName()
    {
        var e = Assert.Throws<ArgumentException>(() => new SpanProducer(
            [new("bootstrap.servers", "127.0.0.1:1"), new("linger.msx", "5")], NullLogger.Instance, (_, _) => { }));
        Assert.Contains("linger.msx", e.Message);
    }
}
