using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text;

namespace Pipeline.Producers.Process;

/// <summary>One kernel log record: its text and when it was logged, in microseconds since boot.</summary>
public readonly record struct KernelRecord(long Sequence, long MicrosecondsSinceBoot, string Message);

/// <summary>
/// Reads new records from <c>/dev/kmsg</c> without blocking. Each read() returns exactly one record
/// (<c>priority,sequence,timestamp_us,flags;message</c>); records older than <see cref="Open"/> are skipped.
/// </summary>
public sealed unsafe partial class KernelLogReader : IDisposable
{
    private const int ORdOnly = 0, ONonBlock = 0x800, OCloExec = 0x80000;
    private const int SeekEnd = 2;
    private const int EAgain = 11, EPipe = 32, EIntr = 4;

    private readonly int _fd;
    private readonly byte[][] _keywords;
    private readonly byte[] _buffer = new byte[8192];

    private KernelLogReader(int fd, byte[][] keywords)
    {
        _fd = fd;
        _keywords = keywords;
    }

    /// <summary>
    /// Opens <paramref name="path"/> positioned at its end, or returns null with the reason (e.g. not
    /// root and dmesg_restrict set). With <paramref name="keywords"/>, only records containing one of
    /// them are returned, so a chatty kernel log costs no strings.
    /// </summary>
    public static KernelLogReader? Open(string path, out string? error, params string[] keywords)
    {
        error = null;
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes) fd = OpenNative(p, ORdOnly | ONonBlock | OCloExec);
        if (fd < 0)
        {
            error = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            return null;
        }
        LSeek(fd, 0, SeekEnd);
        var encoded = new byte[keywords.Length][];
        for (int i = 0; i < keywords.Length; i++) encoded[i] = Encoding.UTF8.GetBytes(keywords[i]);
        return new KernelLogReader(fd, encoded);
    }

    /// <summary>Appends every record logged since the last call.</summary>
    public void ReadNew(List<KernelRecord> into)
    {
        while (true)
        {
            nint n;
            fixed (byte* b = _buffer) n = ReadNative(_fd, b, _buffer.Length);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EPipe || errno == EIntr) continue; // records were overwritten before we read them: go on with the next
                return; // EAGAIN: nothing more for now
            }
            if (n == 0) return;
            var raw = _buffer.AsSpan(0, (int)n);
            if (Wanted(raw) && TryParse(raw, out var record)) into.Add(record);
        }
    }

    private bool Wanted(ReadOnlySpan<byte> raw)
    {
        if (_keywords.Length == 0) return true;
        foreach (var keyword in _keywords)
        {
            if (raw.IndexOf(keyword) >= 0) return true;
        }
        return false;
    }

    /// <summary>Parses one <c>/dev/kmsg</c> record; continuation lines (<c> KEY=value</c>) are ignored.</summary>
    public static bool TryParse(ReadOnlySpan<byte> raw, out KernelRecord record)
    {
        record = default;
        int semicolon = raw.IndexOf((byte)';');
        if (semicolon < 0) return false;
        var header = raw[..semicolon];
        var message = raw[(semicolon + 1)..];
        int nl = message.IndexOf((byte)'\n');
        if (nl >= 0) message = message[..nl];
        // priority,sequence,timestamp,flags
        int c1 = header.IndexOf((byte)',');
        if (c1 < 0) return false;
        var rest = header[(c1 + 1)..];
        if (!Utf8Parser.TryParse(rest, out long sequence, out int used) || used >= rest.Length) return false;
        rest = rest[(used + 1)..];
        if (!Utf8Parser.TryParse(rest, out long micros, out _)) return false;
        record = new KernelRecord(sequence, micros, Encoding.UTF8.GetString(message));
        return true;
    }

    public void Dispose() => CloseNative(_fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static partial int OpenNative(byte* path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadNative(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "lseek")]
    private static partial long LSeek(int fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseNative(int fd);
}
