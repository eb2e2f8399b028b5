using System.Runtime.InteropServices;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>
/// A file opened with O_APPEND, as applications open their logs (and as copytruncate assumes): every write
/// lands at the current end, so after a truncate the next line goes to offset 0. .NET's FileMode.Append
/// does not do this (it seeks once and writes at its own position), which after a truncate leaves a hole.
/// </summary>
internal sealed partial class AppendOnlyFile : IDisposable
{
    private const int WriteOnly = 0x1, Create = 0x40, Append = 0x400;
    private readonly int _fd;

    public AppendOnlyFile(string path)
    {
        _fd = Open(path, WriteOnly | Create | Append, Convert.ToInt32("644", 8));
        if (_fd < 0) throw new IOException($"open {path}: errno {Marshal.GetLastPInvokeError()}");
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            nint n = WriteNative(_fd, ref MemoryMarshal.GetReference(bytes), bytes.Length);
            if (n < 0) throw new IOException($"write: errno {Marshal.GetLastPInvokeError()}");
            bytes = bytes[(int)n..];
        }
    }

    public void Dispose() => CloseNative(_fd);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteNative(int fd, ref byte buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseNative(int fd);
}
