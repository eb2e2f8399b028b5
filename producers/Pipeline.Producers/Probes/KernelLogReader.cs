using System.Runtime.InteropServices;
using System.Text;

namespace Pipeline.Producers.Probes;

/// <summary>
/// Reads new records from /dev/kmsg without blocking. Hand-written over open/read with O_NONBLOCK because
/// a .NET FileStream cannot open a device non-blocking, and /dev/kmsg returns exactly one record per
/// read(2) and EAGAIN at the end, which is how we know a run has seen everything new. A regular file in
/// the same format works too (tests use one).
/// </summary>
internal sealed partial class KernelLogReader : IDisposable
{
    private const int ReadOnlyNonBlocking = 0x800; // O_RDONLY | O_NONBLOCK
    private const int SeekEnd = 2;
    private const int EAgain = 11;
    private const int EPipe = 32;
    private const int EInterrupted = 4;
    private const int MaxRecordsPerRun = 10_000;

    private readonly byte[] _buffer = new byte[8192];
    private readonly StringBuilder _partial = new();
    private int _fd = -1;

    public KernelLogReader(string path) => Path = path;

    public string Path { get; }

    /// <summary>Opens the log at its current end (boot-time messages are history, not news); throws with errno text when it cannot.</summary>
    public void Open()
    {
        if (_fd >= 0) return;
        int fd = open(Path, ReadOnlyNonBlocking);
        if (fd < 0) throw new IOException(Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        _ = lseek(fd, 0, SeekEnd);
        _fd = fd;
    }

    /// <summary>Hands every message written since the last call to <paramref name="onMessage"/>, with the record's prefix removed.</summary>
    public int ReadNew(Action<string> onMessage)
    {
        int records = 0;
        while (records < MaxRecordsPerRun)
        {
            nint n = read(_fd, _buffer, _buffer.Length);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EAgain) break;
                if (errno is EPipe or EInterrupted) continue; // EPIPE: the ring buffer overwrote records we had not read; go on with the rest
                throw new IOException(Marshal.GetPInvokeErrorMessage(errno));
            }
            if (n == 0) break; // a regular file's end
            records += Split(_buffer.AsSpan(0, (int)n), onMessage);
        }
        return records;
    }

    private int Split(ReadOnlySpan<byte> chunk, Action<string> onMessage)
    {
        int count = 0;
        while (!chunk.IsEmpty)
        {
            int end = chunk.IndexOf((byte)'\n');
            if (end < 0)
            {
                _partial.Append(Encoding.UTF8.GetString(chunk));
                break;
            }
            string line = _partial.Length > 0 ? _partial.Append(Encoding.UTF8.GetString(chunk[..end])).ToString() : Encoding.UTF8.GetString(chunk[..end]);
            _partial.Clear();
            chunk = chunk[(end + 1)..];
            // Continuation lines (" SUBSYSTEM=...") carry metadata, not text.
            if (line.Length == 0 || line[0] == ' ') continue;
            onMessage(StripPrefix(line));
            count++;
        }
        return count;
    }

    /// <summary>"6,1234,5678,-;text" -> "text"; a line without the prefix is kept whole.</summary>
    internal static string StripPrefix(string line)
    {
        int semicolon = line.IndexOf(';', StringComparison.Ordinal);
        if (semicolon <= 0) return line;
        foreach (char c in line.AsSpan(0, semicolon))
        {
            if (!char.IsAsciiDigit(c) && c is not (',' or '-' or 'c' or '+')) return line;
        }
        return line[(semicolon + 1)..];
    }

    public void Dispose()
    {
        if (_fd >= 0) _ = close(_fd);
        _fd = -1;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint read(int fd, byte[] buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial long lseek(int fd, long offset, int whence);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
