using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Pipeline.Schemas.Topics;

namespace Pipeline.Plumbing.Kafka;

/// <summary>
/// An in-process Kafka cluster (librdkafka's mock cluster) speaking the real wire protocol on
/// 127.0.0.1, so kcat and other processes can use it. Data lives in memory only, and each partition
/// keeps only a few MiB: it is for one machine, for trying things and for tests.
/// </summary>
public sealed class EmbeddedBroker : IDisposable
{
    // Error 36 is TOPIC_ALREADY_EXISTS: creating twice is fine.
    private const int ErrTopicAlreadyExists = 36;

    private readonly IntPtr _handle;
    private readonly IntPtr _cluster;
    private readonly TcpForwarder? _forwarder;
    private readonly ILogger? _logger;
    private bool _disposed;

    /// <param name="brokers">Number of brokers in the cluster.</param>
    /// <param name="stablePort">When non-zero, a loopback port that forwards to the first broker, for a bootstrap address that does not change.</param>
    public EmbeddedBroker(int brokers = 1, int stablePort = 0, ILogger? logger = null)
    {
        _logger = logger;
        LibrdkafkaNative.EnsureLoaded();
        var errstr = new byte[512];
        var conf = LibrdkafkaNative.ConfNew();
        // This handle only owns the mock cluster; it never connects anywhere, so keep its logging quiet.
        LibrdkafkaNative.ConfSet(conf, "log_level", "3", errstr, (UIntPtr)errstr.Length);
        _handle = LibrdkafkaNative.New(0, conf, errstr, (UIntPtr)errstr.Length);
        if (_handle == IntPtr.Zero)
        {
            // rd_kafka_new takes the conf only when it succeeds.
            LibrdkafkaNative.ConfDestroy(conf);
            throw new InvalidOperationException("embedded broker: rd_kafka_new failed: " + LibrdkafkaNative.ErrorText(errstr));
        }
        _cluster = LibrdkafkaNative.MockClusterNew(_handle, brokers);
        if (_cluster == IntPtr.Zero)
        {
            LibrdkafkaNative.Destroy(_handle);
            throw new InvalidOperationException("embedded broker: rd_kafka_mock_cluster_new failed");
        }
        // Without a controller, admin requests wait out their whole timeout; without the delay set to 0,
        // every first consumer-group join waits 3 s.
        LibrdkafkaNative.MockSetControllerId(_cluster, 1);
        LibrdkafkaNative.MockGroupInitialRebalanceDelayMs(_cluster, 0);
        BrokerBootstrap = Marshal.PtrToStringUTF8(LibrdkafkaNative.MockClusterBootstraps(_cluster)) ?? "";
        Brokers = brokers;
        if (stablePort != 0)
        {
            var first = BrokerBootstrap.Split(',')[0];
            int port = int.Parse(first[(first.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            try
            {
                _forwarder = new TcpForwarder(stablePort, port, logger);
            }
            catch
            {
                // A taken embedded_port must not leave the cluster and its threads running in a process that goes on (tests, `pipeline run` retries).
                LibrdkafkaNative.MockClusterDestroy(_cluster);
                LibrdkafkaNative.Destroy(_handle);
                throw;
            }
            Bootstrap = $"127.0.0.1:{stablePort}";
        }
        else
        {
            Bootstrap = BrokerBootstrap;
        }
    }

    /// <summary>The bootstrap address clients should use.</summary>
    public string Bootstrap { get; }

    /// <summary>The brokers' own (random) addresses.</summary>
    public string BrokerBootstrap { get; }

    public int Brokers { get; }

    public void CreateTopic(string name, int partitions)
    {
        int err = LibrdkafkaNative.MockTopicCreate(_cluster, name, partitions, Math.Min(Brokers, 3));
        if (err != 0 && err != ErrTopicAlreadyExists)
            throw new InvalidOperationException($"embedded broker: creating topic {name} failed with Kafka error {err}");
    }

    /// <summary>Creates every topic in the catalog, plus any extra (internal) topics.</summary>
    public void CreateTopics(IEnumerable<(string Name, int Partitions)>? extra = null)
    {
        foreach (var topic in TopicCatalog.All) CreateTopic(topic.Name, topic.Partitions);
        if (extra is null) return;
        foreach (var (name, partitions) in extra) CreateTopic(name, partitions);
    }

    /// <summary>Takes a broker down (connections refused) to test how clients cope.</summary>
    public void SetBrokerDown(int brokerId) => LibrdkafkaNative.MockBrokerSetDown(_cluster, brokerId);

    public void SetBrokerUp(int brokerId) => LibrdkafkaNative.MockBrokerSetUp(_cluster, brokerId);

    public void SetBrokerRtt(int brokerId, TimeSpan rtt) => LibrdkafkaNative.MockBrokerSetRtt(_cluster, brokerId, (int)rtt.TotalMilliseconds);

    /// <summary>Makes the next <paramref name="errors"/>.Length requests of <paramref name="apiKey"/> fail with those Kafka error codes.</summary>
    public void PushRequestErrors(short apiKey, params int[] errors)
        => LibrdkafkaNative.MockPushRequestErrorsArray(_cluster, apiKey, (UIntPtr)errors.Length, errors);

    /// <summary>Writes the bootstrap address to <paramref name="path"/> atomically, for other processes.</summary>
    public void WriteBootstrapFile(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, Bootstrap + "\n");
        File.Move(tmp, path, overwrite: true);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _forwarder?.Dispose();
        LibrdkafkaNative.MockClusterDestroy(_cluster);
        LibrdkafkaNative.Destroy(_handle);
        _logger?.LogInformation("embedded broker stopped");
    }
}
