using System.Runtime.InteropServices;
using System.Text;

namespace Pipeline.Producers.Process;

/// <summary>How reading one <c>/proc</c> file went.</summary>
public enum ReadOutcome : byte
{
    Ok,
    /// <summary>The process is gone (ENOENT, ESRCH): it exited while we were reading it.</summary>
    Gone,
    /// <summary>Not permitted (EACCES, EPERM): another user's process, or <c>hidepid</c>.</summary>
    Denied,
    /// <summary>Any other error; treated like <see cref="Denied"/> (the field is left out).</summary>
    Failed,
}

/// <summary>
/// Reads <c>/proc/PID/*</c> files (and other pseudo-files, such as cgroupfs's, under another root) into
/// one reused buffer with raw open/read/close calls: no FileStream, no string per path, no allocation
/// per process. One instance per thread.
/// </summary>
public sealed unsafe partial class ProcFileReader
{
    private const int ORdOnly = 0;
    private const int OCloExec = 0x80000;
    private const int ODirectory = 0x10000;
    private const int ENoEnt = 2, ESrch = 3, EAcces = 13, EPerm = 1;

    // A dirent's name starts at byte 19 on every 64-bit Linux libc (d_ino 8, d_off 8, d_reclen 2, d_type 1).
    private const int DirentNameOffset = 19;
    private const int PathMax = 1024;

    private readonly byte[] _root;
    private byte[] _buffer = new byte[4096];

    /// <param name="procRoot">Where procfs is mounted, normally <c>/proc</c>.</param>
    public ProcFileReader(string procRoot = "/proc")
    {
        Root = procRoot.TrimEnd('/');
        _root = Encoding.UTF8.GetBytes(Root + "/");
        _isProcFs = IsProcFs(_root);
    }

    private readonly bool _isProcFs;

    // Only procfs reports a directory's entry count as its size; any other filesystem (a test's fake tree) does not.
    private static bool IsProcFs(byte[] root)
    {
        const long ProcSuperMagic = 0x9fa0;
        Span<byte> path = stackalloc byte[root.Length + 1];
        root.CopyTo(path);
        path[^1] = 0;
        Span<byte> buffer = stackalloc byte[128]; // struct statfs; f_type comes first
        fixed (byte* p = path)
        fixed (byte* b = buffer)
            return StatFs(p, b) == 0 && *(long*)b == ProcSuperMagic;
    }

    public string Root { get; }

    /// <summary>The bytes of the last successful <see cref="Read"/>, valid until the next call.</summary>
    public ReadOnlySpan<byte> Data => _buffer.AsSpan(0, Length);

    public int Length { get; private set; }

    /// <summary>
    /// Reads <c>{root}/{pid}/{file}</c> whole (file is e.g. <c>"stat"u8</c>); <paramref name="pid"/> 0 reads
    /// <c>{root}/{file}</c>. With <paramref name="shortReadIsEnd"/>, a read that does not fill the buffer is
    /// taken as the end of the file, saving the second read() that would return 0. That holds for the
    /// per-process files (stat, status, io, cgroup: generated whole on the first read; cmdline), not for
    /// record-by-record files such as <c>/proc/vmstat</c>, which may stop short of a record that did not fit.
    /// </summary>
    public ReadOutcome Read(int pid, ReadOnlySpan<byte> file, int maxBytes = 1 << 20, bool shortReadIsEnd = false)
    {
        Length = 0;
        Span<byte> path = stackalloc byte[PathMax];
        if (!BuildPath(path, pid, file)) return ReadOutcome.Failed;
        int fd;
        fixed (byte* p = path) fd = Open(p, ORdOnly | OCloExec);
        if (fd < 0) return Classify(Marshal.GetLastPInvokeError());
        try
        {
            while (true)
            {
                if (Length == _buffer.Length)
                {
                    if (_buffer.Length >= maxBytes) return ReadOutcome.Ok; // keep what fits, like ps does for huge command lines
                    Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, maxBytes));
                }
                nint n;
                fixed (byte* b = &_buffer[Length]) n = ReadNative(fd, b, _buffer.Length - Length);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    Length = 0;
                    return Classify(errno);
                }
                if (n == 0) return ReadOutcome.Ok;
                Length += (int)n;
                if (shortReadIsEnd && Length < _buffer.Length) return ReadOutcome.Ok;
            }
        }
        finally
        {
            CloseNative(fd);
        }
    }

    /// <summary>The target of a symlink such as <c>/proc/PID/exe</c>, or null with the reason.</summary>
    public ReadOutcome ReadLink(int pid, ReadOnlySpan<byte> file, out string? target)
    {
        target = null;
        Span<byte> path = stackalloc byte[PathMax];
        if (!BuildPath(path, pid, file)) return ReadOutcome.Failed;
        Span<byte> link = stackalloc byte[4096];
        nint n;
        fixed (byte* p = path)
        fixed (byte* l = link)
            n = ReadLinkNative(p, l, link.Length);
        if (n < 0) return Classify(Marshal.GetLastPInvokeError());
        target = Encoding.UTF8.GetString(link[..(int)n]);
        return ReadOutcome.Ok;
    }

    /// <summary>
    /// Counts the entries of a directory such as <c>/proc/PID/fd</c> (without <c>.</c> and <c>..</c>).
    /// Since Linux 6.2, stat() of <c>/proc/PID/fd</c> gives the count as its size: one call instead of
    /// listing every descriptor. A size of 0 (older kernels) falls back to listing.
    /// </summary>
    public ReadOutcome CountEntries(int pid, ReadOnlySpan<byte> directory, out int count)
    {
        count = 0;
        Span<byte> path = stackalloc byte[PathMax];
        if (!BuildPath(path, pid, directory)) return ReadOutcome.Failed;
        if (_isProcFs)
        {
            Span<byte> statx = stackalloc byte[256];
            int rc;
            fixed (byte* p = path)
            fixed (byte* b = statx)
                rc = StatX(AtFdCwd, p, 0, StatxSize, b);
            if (rc != 0) return Classify(Marshal.GetLastPInvokeError());
            long size = BitConverter.ToInt64(statx[40..]);
            if (size > 0)
            {
                count = (int)size;
                return ReadOutcome.Ok;
            }
        }
        nint dir;
        fixed (byte* p = path) dir = OpenDir(p);
        if (dir == 0) return Classify(Marshal.GetLastPInvokeError());
        try
        {
            while (true)
            {
                byte* entry = ReadDir(dir);
                if (entry == null) return ReadOutcome.Ok;
                byte* name = entry + DirentNameOffset;
                if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
                count++;
            }
        }
        finally
        {
            CloseDir(dir);
        }
    }

    /// <summary>Every numeric entry of the proc root: the thread-group leaders, i.e. the processes.</summary>
    public bool ListPids(List<int> into)
    {
        into.Clear();
        Span<byte> path = stackalloc byte[PathMax];
        if (!BuildPath(path, 0, default)) return false;
        nint dir;
        fixed (byte* p = path) dir = OpenDir(p);
        if (dir == 0) return false;
        try
        {
            while (true)
            {
                byte* entry = ReadDir(dir);
                if (entry == null) return true;
                byte* name = entry + DirentNameOffset;
                int pid = 0;
                int i = 0;
                for (; name[i] != 0; i++)
                {
                    int digit = name[i] - '0';
                    if ((uint)digit > 9) { pid = -1; break; }
                    pid = pid * 10 + digit;
                }
                if (pid > 0 && i > 0) into.Add(pid);
            }
        }
        finally
        {
            CloseDir(dir);
        }
    }

    /// <summary>True when <c>{root}/{pid}</c> still exists (a cheap check used before reporting an exit).</summary>
    public bool Exists(int pid)
    {
        Span<byte> path = stackalloc byte[PathMax];
        if (!BuildPath(path, pid, default)) return false;
        int fd;
        fixed (byte* p = path) fd = Open(p, ORdOnly | OCloExec | ODirectory);
        if (fd < 0) return false;
        CloseNative(fd);
        return true;
    }

    private bool BuildPath(Span<byte> path, int pid, ReadOnlySpan<byte> file)
    {
        if (_root.Length + 12 + file.Length + 1 > path.Length) return false;
        _root.CopyTo(path);
        int at = _root.Length;
        if (pid > 0)
        {
            pid.TryFormat(path[at..], out int written);
            at += written;
            if (!file.IsEmpty) path[at++] = (byte)'/';
        }
        file.CopyTo(path[at..]);
        at += file.Length;
        path[at] = 0;
        return true;
    }

    private static ReadOutcome Classify(int errno) => errno switch
    {
        ENoEnt or ESrch => ReadOutcome.Gone,
        EAcces or EPerm => ReadOutcome.Denied,
        _ => ReadOutcome.Failed,
    };

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static partial int Open(byte* path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadNative(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseNative(int fd);

    [LibraryImport("libc", EntryPoint = "readlink", SetLastError = true)]
    private static partial nint ReadLinkNative(byte* path, byte* buffer, nint size);

    private const int AtFdCwd = -100;
    private const uint StatxSize = 0x200;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static partial int StatX(int dirfd, byte* path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "statfs")]
    private static partial int StatFs(byte* path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "opendir", SetLastError = true)]
    private static partial nint OpenDir(byte* path);

    [LibraryImport("libc", EntryPoint = "readdir")]
    private static partial byte* ReadDir(nint dir);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int CloseDir(nint dir);
}
