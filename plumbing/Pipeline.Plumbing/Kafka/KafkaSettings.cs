using Confluent.Kafka;
using Pipeline.Plumbing.Config;

namespace Pipeline.Plumbing.Kafka;

/// <summary>
/// Client settings every stage uses, derived from <c>[kafka]</c> and where the broker really is.
/// Tuned for the embedded broker when it is the one in use (see shared notes on the mock cluster).
/// </summary>
public sealed class KafkaSettings(KafkaConfig config, string bootstrap, bool embedded)
{
    public string Bootstrap { get; } = bootstrap;

    /// <summary>True when talking to the embedded mock cluster.</summary>
    public bool Embedded { get; } = embedded;

    public KafkaConfig Config { get; } = config;

    public ProducerConfig Producer(string role)
    {
        var c = new ProducerConfig(Common(role))
        {
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            BatchNumMessages = 10_000,
            MessageTimeoutMs = (int)Duration.Parse(Config.DeliveryTimeout).TotalMilliseconds,
            // The mock broker is on loopback: compression would only burn CPU. Real links benefit from it.
            CompressionType = Embedded ? CompressionType.None : CompressionType.Lz4,
        };
        return c;
    }

    public ConsumerConfig Consumer(string role, string groupId)
    {
        var c = new ConsumerConfig(Common(role))
        {
            GroupId = groupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = IsolationLevel.ReadCommitted,
        };
        if (Embedded)
        {
            // An empty fetch is held for fetch.wait.max.ms (500 ms by default) by the mock; and a group
            // whose last member left waits session.timeout.ms before the next join.
            c.FetchWaitMaxMs = 10;
            c.SessionTimeoutMs = 6000;
            c.HeartbeatIntervalMs = 1000;
        }
        return c;
    }

    public AdminClientConfig Admin(string role)
    {
        // The admin client refuses the .NET client's producer/consumer-only keys (dotnet.producer.*, ...).
        var common = Common(role);
        foreach (var key in common.Keys.ToList())
        {
            if (key.StartsWith("dotnet.", StringComparison.Ordinal)) common.Remove(key);
        }
        return new AdminClientConfig(common);
    }

    /// <summary>Settings shared by every client; pass-through <c>kafka.properties</c> win.</summary>
    public Dictionary<string, string> Common(string role)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = Bootstrap,
            ["client.id"] = $"{Config.ClientId}-{role}",
            ["socket.keepalive.enable"] = "true",
            ["reconnect.backoff.ms"] = "100",
            ["reconnect.backoff.max.ms"] = "10000",
        };
        var k = Config;
        if (k.SecurityProtocol != "PLAINTEXT")
        {
            d["security.protocol"] = k.SecurityProtocol.ToLowerInvariant();
            d["ssl.endpoint.identification.algorithm"] = k.SslEndpointIdentificationAlgorithm;
        }
        if (k.SaslMechanism.Length > 0)
        {
            d["sasl.mechanism"] = k.SaslMechanism;
            if (k.SaslUsername.Length > 0) d["sasl.username"] = k.SaslUsername;
            if (k.SaslPassword.Length > 0) d["sasl.password"] = k.SaslPassword;
        }
        if (k.SslCaLocation.Length > 0) d["ssl.ca.location"] = k.SslCaLocation;
        if (k.SslCertificateLocation.Length > 0) d["ssl.certificate.location"] = k.SslCertificateLocation;
        if (k.SslKeyLocation.Length > 0) d["ssl.key.location"] = k.SslKeyLocation;
        foreach (var (key, value) in Config.Properties) d[key] = value;
        return d;
    }

    /// <summary>
    /// Where the brokers are for a process that does not host the embedded broker itself: the
    /// configured list, or the address a <c>pipeline broker</c>/<c>pipeline run</c> wrote to <c>data_dir/bootstrap</c>.
    /// </summary>
    public static KafkaSettings ForClient(PipelineConfig config)
    {
        if (!config.Kafka.IsEmbedded) return new KafkaSettings(config.Kafka, config.Kafka.Bootstrap, embedded: false);
        var file = BootstrapFile(config);
        if (!File.Exists(file))
            throw new InvalidOperationException(
                $"kafka.bootstrap is \"embedded\" but no embedded broker has written {file}. " +
                "Start `pipeline broker` (or `pipeline run`) with the same data_dir first, or set kafka.bootstrap to your brokers.");
        var bootstrap = File.ReadAllText(file).Trim();
        return new KafkaSettings(config.Kafka, bootstrap, embedded: true);
    }

    public static string BootstrapFile(PipelineConfig config) => Path.Combine(config.DataDir, "bootstrap");
}
