using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Pipeline.Producers.Logs;

/// <summary>
/// Which file this is, independent of its name: device + inode + birth time. A rename keeps it, a
/// delete+create gets a new one even when the kernel reuses the inode (birth time differs), and two
/// paths to the same file (symlinks, bind mounts) share it.
/// </summary>
public readonly record struct FileIdentity(ulong Device, ulong Inode, long BirthNanos)
{
    public override string ToString() => $"{Device:x}:{Inode}:{BirthNanos}";

    public static bool TryParse(string text, out FileIdentity identity)
    {
        identity = default;
        var parts = text.Split(':');
        if (parts.Length != 3) return false;
        if (!ulong.TryParse(parts[0], System.Globalization.NumberStyles.HexNumber, null, out var dev)) return false;
        if (!ulong.TryParse(parts[1], out var ino) || !long.TryParse(parts[2], out var birth)) return false;
        identity = new FileIdentity(dev, ino, birth);
        return true;
    }

    /// <summary>Identity and size of an open file.</summary>
    public static FileStatus Of(SafeFileHandle handle)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return Statx.Query((int)handle.DangerousGetHandle(), "", Statx.AtEmptyPath);
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>Identity and size of the file a path names now (following symlinks), or null when there is none.</summary>
    public static FileStatus? Of(string path)
    {
        try
        {
            return Statx.Query(Statx.AtFdCwd, path, 0);
        }
        catch (IOException)
        {
            return null;
        }
    }
}

/// <summary>What the tailer needs to know about a file without reading it.</summary>
public readonly record struct FileStatus(FileIdentity Identity, long Size, DateTime ModifiedUtc, int Mode = 0x8000)
{
    /// <summary>A plain file: never a FIFO (opening one blocks until a writer appears), socket or device.</summary>
    public bool IsRegular => (Mode & Statx.FileTypeMask) == Statx.RegularFile;
}

// Hand-written because .NET has no API for inodes. statx (glibc >= 2.28) is used rather than stat
// because its struct layout is the same on every architecture, so one P/Invoke definition is right everywhere.
internal static partial class Statx
{
    public const int FileTypeMask = 0xF000;
    public const int RegularFile = 0x8000;
    public const int AtFdCwd = -100;
    public const int AtEmptyPath = 0x1000;
    private const uint MaskBasicStats = 0x7ff;
    private const uint MaskBirthTime = 0x800;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Native(int dirfd, string path, int flags, uint mask, byte* buffer);

    public static unsafe FileStatus Query(int dirfd, string path, int flags)
    {
        byte* b = stackalloc byte[256];
        if (Native(dirfd, path, flags, MaskBasicStats | MaskBirthTime, b) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"statx {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
        uint mask = *(uint*)b;
        ushort mode = *(ushort*)(b + 28);
        ulong inode = *(ulong*)(b + 32);
        long size = *(long*)(b + 40);
        long birthSec = *(long*)(b + 80);
        uint birthNsec = *(uint*)(b + 88);
        long mtimeSec = *(long*)(b + 112);
        uint mtimeNsec = *(uint*)(b + 120);
        uint devMajor = *(uint*)(b + 136);
        uint devMinor = *(uint*)(b + 140);
        long birth = (mask & MaskBirthTime) != 0 ? birthSec * 1_000_000_000 + birthNsec : 0;
        var device = ((ulong)devMajor << 32) | devMinor;
        var modified = DateTime.UnixEpoch.AddTicks(mtimeSec * TimeSpan.TicksPerSecond + mtimeNsec / 100);
        return new FileStatus(new FileIdentity(device, inode, birth), size, modified, mode);
    }
}
