using System.Reflection;
using System.Runtime.InteropServices;

namespace Pipeline.Plumbing.Kafka;

/// <summary>
/// P/Invoke into librdkafka's mock cluster API. Confluent.Kafka does not expose it, so this binds the
/// handful of C functions directly, against the very same native file Confluent.Kafka loaded (two
/// copies of librdkafka in one process would each have their own globals).
/// </summary>
internal static partial class LibrdkafkaNative
{
    private const string Lib = "librdkafka";

    static LibrdkafkaNative()
    {
        NativeLibrary.SetDllImportResolver(typeof(LibrdkafkaNative).Assembly, Resolve);
    }

    /// <summary>Makes sure the resolver is installed before the first call.</summary>
    public static void EnsureLoaded() => _ = Confluent.Kafka.Library.Version;

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Lib) return IntPtr.Zero;
        // Let Confluent.Kafka pick and load its file first (it falls back to centos8-librdkafka.so on
        // Debian, whose libsasl2 is too old for the default build), then load exactly that file.
        _ = Confluent.Kafka.Library.Version;
        var loaded = LoadedPathFromMaps();
        if (loaded is not null && NativeLibrary.TryLoad(loaded, out var handle)) return handle;
        foreach (var candidate in Candidates())
        {
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out handle)) return handle;
        }
        throw new DllNotFoundException("librdkafka: could not find the native library Confluent.Kafka uses");
    }

    private static string? LoadedPathFromMaps()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');
                if (slash < 0) continue;
                var path = line[slash..];
                if (path.EndsWith(".so", StringComparison.Ordinal) && Path.GetFileName(path).Contains("librdkafka", StringComparison.Ordinal))
                    return path;
            }
        }
        catch (IOException)
        {
            // Not Linux, or /proc not mounted: fall back to the candidate list.
        }
        return null;
    }

    private static IEnumerable<string> Candidates()
    {
        // NATIVE_DLL_SEARCH_DIRECTORIES is the runtime's own probing list; for a single-file binary it
        // holds the directory the bundled native libraries were extracted to (Assembly.Location is empty there).
        var probing = (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var dir in probing.Append(AppContext.BaseDirectory).Distinct(StringComparer.Ordinal))
        {
            foreach (var file in new[] { "librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so" })
            {
                yield return Path.Combine(dir, file);
                yield return Path.Combine(dir, "runtimes", "linux-x64", "native", file);
            }
        }
    }

    /// <summary>The message librdkafka wrote into an <c>errstr</c> buffer (NUL-terminated UTF-8).</summary>
    public static string ErrorText(byte[] errstr)
    {
        int end = Array.IndexOf(errstr, (byte)0);
        return System.Text.Encoding.UTF8.GetString(errstr, 0, end < 0 ? errstr.Length : end);
    }

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_new")]
    public static partial IntPtr ConfNew();

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_set", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ConfSet(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_new")]
    public static partial IntPtr New(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_destroy")]
    public static partial void Destroy(IntPtr rk);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_destroy")]
    public static partial void ConfDestroy(IntPtr conf);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_set_opaque")]
    public static partial void ConfSetOpaque(IntPtr conf, IntPtr opaque);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_set_dr_msg_cb")]
    public static unsafe partial void ConfSetDeliveryReportCallback(IntPtr conf, delegate* unmanaged[Cdecl]<IntPtr, RdKafkaMessage*, IntPtr, void> callback);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_set_error_cb")]
    public static unsafe partial void ConfSetErrorCallback(IntPtr conf, delegate* unmanaged[Cdecl]<IntPtr, int, byte*, IntPtr, void> callback);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_conf_set_log_cb")]
    public static unsafe partial void ConfSetLogCallback(IntPtr conf, delegate* unmanaged[Cdecl]<IntPtr, int, byte*, byte*, void> callback);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_opaque")]
    public static partial IntPtr Opaque(IntPtr rk);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_name")]
    public static partial IntPtr Name(IntPtr rk);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_topic_new", StringMarshalling = StringMarshalling.Utf8)]
    public static partial IntPtr TopicNew(IntPtr rk, string topic, IntPtr topicConf);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_topic_destroy")]
    public static partial void TopicDestroy(IntPtr rkt);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_produceva")]
    public static unsafe partial IntPtr ProduceVa(IntPtr rk, ProduceArgument* arguments, UIntPtr count);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_error_code")]
    public static partial int ErrorCodeOf(IntPtr error);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_error_destroy")]
    public static partial void ErrorDestroy(IntPtr error);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_poll")]
    public static partial int Poll(IntPtr rk, int timeoutMs);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_flush")]
    public static partial int Flush(IntPtr rk, int timeoutMs);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_outq_len")]
    public static partial int OutQueueLength(IntPtr rk);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_fatal_error")]
    public static partial int FatalError(IntPtr rk, byte[] errstr, UIntPtr errstrSize);

    /// <summary>rd_kafka_message_t, as a delivery report hands it over (the producer's msg_opaque is <c>_private</c>).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct RdKafkaMessage
    {
        public int Error;
        public IntPtr Topic;
        public int Partition;
        public IntPtr Payload;
        public UIntPtr Length;
        public IntPtr Key;
        public UIntPtr KeyLength;
        public long Offset;
        public IntPtr Opaque;
    }

    /// <summary>rd_kafka_vtype_t: the kind of a <see cref="ProduceArgument"/>.</summary>
    public enum ProduceArgumentType
    {
        End,
        Topic,
        TopicHandle,
        Partition,
        Value,
        Key,
        Opaque,
        MessageFlags,
        Timestamp,
        Header,
        Headers,
    }

    /// <summary>
    /// rd_kafka_vu_t: a tag and a 64-byte union (padded for future members), 72 bytes in all. The union's
    /// members used here: a pointer, an int64, a (pointer, size) pair, and a header's (name, value, size).
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 72)]
    public struct ProduceArgument
    {
        [FieldOffset(0)] public ProduceArgumentType Type;
        [FieldOffset(8)] public IntPtr Pointer;
        [FieldOffset(8)] public long Int64;
        [FieldOffset(8)] public int Int32;
        [FieldOffset(16)] public UIntPtr Length;
        [FieldOffset(8)] public IntPtr HeaderName;
        [FieldOffset(16)] public IntPtr HeaderValue;
        [FieldOffset(24)] public IntPtr HeaderValueLength;
    }

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_new")]
    public static partial IntPtr MockClusterNew(IntPtr rk, int brokerCount);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_destroy")]
    public static partial void MockClusterDestroy(IntPtr cluster);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
    public static partial IntPtr MockClusterBootstraps(IntPtr cluster);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_topic_create", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MockTopicCreate(IntPtr cluster, string topic, int partitions, int replicationFactor);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_set_controller_id")]
    public static partial int MockSetControllerId(IntPtr cluster, int brokerId);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_group_initial_rebalance_delay_ms")]
    public static partial void MockGroupInitialRebalanceDelayMs(IntPtr cluster, int delayMs);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_broker_set_down")]
    public static partial int MockBrokerSetDown(IntPtr cluster, int brokerId);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_broker_set_up")]
    public static partial int MockBrokerSetUp(IntPtr cluster, int brokerId);

    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_broker_set_rtt")]
    public static partial int MockBrokerSetRtt(IntPtr cluster, int brokerId, int rttMs);

    // The varargs form (rd_kafka_mock_push_request_errors) cannot be called safely through P/Invoke.
    [LibraryImport(Lib, EntryPoint = "rd_kafka_mock_push_request_errors_array")]
    public static partial void MockPushRequestErrorsArray(IntPtr cluster, short apiKey, UIntPtr count, int[] errors);
}
