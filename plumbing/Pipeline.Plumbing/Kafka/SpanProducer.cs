using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using static Pipeline.Plumbing.Kafka.LibrdkafkaNative;

namespace Pipeline.Plumbing.Kafka;

/// <summary>
/// A Kafka producer for a path that sends many small records from a reused buffer: a record goes to
/// librdkafka straight from a span (librdkafka copies it), and its delivery report comes back as the
/// caller's 64-bit token through one callback. Hand-written because Confluent.Kafka's producer costs, per
/// record, a GCHandle, a report object, a marshalled topic string and a delegate call, and needs the value
/// in an array of exactly its length: about half of the log tailer's CPU per line (bench/RESULTS.md). The
/// native library, the settings and so the wire behaviour (batching, retries, idempotence) are the same;
/// only the managed layer is thinner. Everything else keeps using Confluent.Kafka.
/// </summary>
public sealed unsafe class SpanProducer : IDisposable
{
    /// <summary>Called once per record, on the producer's poll thread (or a thread in <see cref="Flush"/>).</summary>
    public delegate void DeliveryCallback(long token, ErrorCode error);

    private const int MessageCopy = 0x2; // RD_KAFKA_MSG_F_COPY
    private const int FatalErrorCode = -150; // RD_KAFKA_RESP_ERR__FATAL
    private const int StackScratchBytes = 1024;

    private readonly IntPtr _handle;
    private readonly GCHandle _self;
    private readonly Thread _poller;
    private readonly ILogger _logger;
    private readonly DeliveryCallback _onDelivery;
    private readonly Dictionary<string, IntPtr> _topics = new(StringComparer.Ordinal);
    private volatile bool _closing;
    private int _disposed;

    /// <param name="config">librdkafka settings, as <see cref="KafkaSettings.Producer"/> gives them; Confluent.Kafka's own <c>dotnet.*</c> keys are skipped.</param>
    public SpanProducer(IEnumerable<KeyValuePair<string, string>> config, ILogger logger, DeliveryCallback onDelivery)
    {
        EnsureLoaded();
        _logger = logger;
        _onDelivery = onDelivery;
        var error = new byte[512];
        var conf = ConfNew();
        foreach (var (key, value) in config)
        {
            if (key.StartsWith("dotnet.", StringComparison.Ordinal)) continue;
            if (ConfSet(conf, key, value, error, (UIntPtr)error.Length) != 0)
            {
                ConfDestroy(conf);
                throw new ArgumentException($"kafka setting {key} = \"{value}\": {ErrorText(error)}");
            }
        }
        _self = GCHandle.Alloc(this);
        ConfSetOpaque(conf, GCHandle.ToIntPtr(_self));
        ConfSetDeliveryReportCallback(conf, &OnDeliveryReport);
        ConfSetErrorCallback(conf, &OnError);
        ConfSetLogCallback(conf, &OnLog);
        _handle = New(0, conf, error, (UIntPtr)error.Length);
        if (_handle == IntPtr.Zero)
        {
            // rd_kafka_new owns the configuration only when it succeeds.
            ConfDestroy(conf);
            _self.Free();
            throw new InvalidOperationException($"cannot create the Kafka producer: {ErrorText(error)}");
        }
        Name = Marshal.PtrToStringUTF8(LibrdkafkaNative.Name(_handle)) ?? "";
        _poller = new Thread(PollLoop) { IsBackground = true, Name = "kafka poll " + Name };
        _poller.Start();
    }

    /// <summary>librdkafka's name for this client (client.id and a number).</summary>
    public string Name { get; }

    /// <summary>The handle of a topic, created once and kept until <see cref="Dispose"/>. Not thread-safe: call it from the producing thread.</summary>
    public IntPtr Topic(string name)
    {
        if (_topics.TryGetValue(name, out var topic)) return topic;
        topic = TopicNew(_handle, name, IntPtr.Zero);
        if (topic == IntPtr.Zero) throw new ArgumentException($"librdkafka refused the topic name \"{name}\"", nameof(name));
        _topics[name] = topic;
        return topic;
    }

    /// <summary>
    /// Queues one record, partitioned by its key. On success its report later comes to the callback with
    /// <paramref name="token"/>; otherwise nothing is queued, no report will come, and the reason is
    /// returned (<see cref="ErrorCode.Local_QueueFull"/>: call <see cref="WaitForReports"/> and try again).
    /// </summary>
    [SkipLocalsInit]
    public ErrorCode Produce(IntPtr topic, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long timestampMs, long token, Headers? headers = null)
    {
        int headerCount = headers?.Count ?? 0;
        int scratchBytes = 0;
        for (int i = 0; i < headerCount; i++)
        {
            var header = headers![i];
            scratchBytes += Encoding.UTF8.GetMaxByteCount(header.Key.Length) + 1 + (header.GetValueBytes()?.Length ?? 0);
        }
        // Header names must be NUL-terminated C strings: names and values are laid out in one pinned scratch
        // buffer (librdkafka copies them), so a traced record pins nothing else. Not zeroed (SkipLocalsInit):
        // only what is written is passed on.
        Span<byte> scratch = headerCount == 0 ? default : scratchBytes <= StackScratchBytes ? stackalloc byte[StackScratchBytes] : new byte[scratchBytes];
        var args = stackalloc ProduceArgument[6 + headerCount];
        fixed (byte* k = key)
        fixed (byte* v = value)
        fixed (byte* s = scratch)
        {
            args[0] = new ProduceArgument { Type = ProduceArgumentType.TopicHandle, Pointer = topic };
            args[1] = new ProduceArgument { Type = ProduceArgumentType.Value, Pointer = (IntPtr)v, Length = (UIntPtr)value.Length };
            args[2] = new ProduceArgument { Type = ProduceArgumentType.Key, Pointer = (IntPtr)k, Length = (UIntPtr)key.Length };
            args[3] = new ProduceArgument { Type = ProduceArgumentType.Opaque, Pointer = (IntPtr)token };
            args[4] = new ProduceArgument { Type = ProduceArgumentType.MessageFlags, Int32 = MessageCopy };
            args[5] = new ProduceArgument { Type = ProduceArgumentType.Timestamp, Int64 = timestampMs };
            int used = 0;
            for (int i = 0; i < headerCount; i++)
            {
                var header = headers![i];
                var name = s + used;
                used += Encoding.UTF8.GetBytes(header.Key, scratch[used..]);
                scratch[used++] = 0;
                var bytes = header.GetValueBytes();
                var headerValue = s + used;
                if (bytes is not null)
                {
                    bytes.CopyTo(scratch[used..]);
                    used += bytes.Length;
                }
                args[6 + i] = new ProduceArgument
                {
                    Type = ProduceArgumentType.Header,
                    HeaderName = (IntPtr)name,
                    HeaderValue = bytes is null ? IntPtr.Zero : (IntPtr)headerValue,
                    HeaderValueLength = bytes is null ? -1 : bytes.Length,
                };
            }
            var error = ProduceVa(_handle, args, (UIntPtr)(6 + headerCount));
            if (error == IntPtr.Zero) return ErrorCode.NoError;
            var code = (ErrorCode)ErrorCodeOf(error);
            ErrorDestroy(error);
            return code;
        }
    }

    /// <summary>Serves delivery reports on the calling thread for up to <paramref name="timeout"/>: the wait when the queue is full.</summary>
    public void WaitForReports(TimeSpan timeout) => Poll(_handle, (int)timeout.TotalMilliseconds);

    /// <summary>Waits until every queued record is reported or <paramref name="timeout"/> passes; returns how many are left.</summary>
    public int Flush(TimeSpan timeout)
    {
        LibrdkafkaNative.Flush(_handle, (int)timeout.TotalMilliseconds);
        return OutQueueLength(_handle);
    }

    private void PollLoop()
    {
        while (!_closing) Poll(_handle, 100);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _closing = true;
        _poller.Join();
        foreach (var topic in _topics.Values) TopicDestroy(topic);
        _topics.Clear();
        // Records still queued are dropped without reports: callers flush first, and what was not
        // acknowledged is, by their contract, sent again after a restart.
        Destroy(_handle);
        _self.Free();
    }

    private static SpanProducer? From(IntPtr opaque) => opaque == IntPtr.Zero ? null : GCHandle.FromIntPtr(opaque).Target as SpanProducer;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnDeliveryReport(IntPtr rk, RdKafkaMessage* message, IntPtr opaque)
    {
        var producer = From(opaque);
        if (producer is null) return;
        try
        {
            producer._onDelivery((long)message->Opaque, (ErrorCode)message->Error);
        }
        catch (Exception e)
        {
            // An exception must not unwind into librdkafka, and a report that was not accounted for would
            // hold its offset back forever. Stop: what was not acknowledged is sent again after a restart.
            producer._logger.LogCritical(e, "handling a Kafka delivery report failed: {Error}", e.Message);
            Environment.FailFast("handling a Kafka delivery report failed: " + e.Message, e);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnError(IntPtr rk, int code, byte* reason, IntPtr opaque)
    {
        var producer = From(opaque);
        if (producer is null) return;
        if (code == FatalErrorCode)
        {
            var detail = new byte[512];
            var fatal = (ErrorCode)FatalError(rk, detail, (UIntPtr)detail.Length);
            producer._logger.LogError("kafka producer {Client}: fatal error, no record can be sent any more: {Reason} ({Code})", producer.Name, ErrorText(detail), fatal);
            return;
        }
        producer._logger.LogWarning("kafka producer: {Reason} ({Code})", Marshal.PtrToStringUTF8((IntPtr)reason) ?? "", (ErrorCode)code);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnLog(IntPtr rk, int level, byte* facility, byte* message)
    {
        // librdkafka calls this from its own threads too; the logger is thread-safe.
        var producer = From(Opaque(rk));
        if (producer is null) return;
        KafkaLog.Write(producer._logger, level, producer.Name ?? "", Marshal.PtrToStringUTF8((IntPtr)facility) ?? "", Marshal.PtrToStringUTF8((IntPtr)message) ?? "");
    }
}
