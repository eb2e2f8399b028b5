using System.Runtime.InteropServices;

namespace Pipeline.Producers.Probes;

/// <summary>
/// statvfs(3) for a mount path. Hand-written P/Invoke because .NET's DriveInfo has no inode counts and
/// no read-only flag, and those are two of the three things the disk probes check.
/// </summary>
public readonly partial struct FileSystemStats
{
    private const ulong ReadOnlyFlag = 1; // ST_RDONLY

    public ulong BlockSize { get; init; }
    public ulong Blocks { get; init; }
    public ulong BlocksFree { get; init; }
    public ulong BlocksAvailable { get; init; }
    public ulong Inodes { get; init; }
    public ulong InodesFree { get; init; }
    public bool ReadOnly { get; init; }

    /// <summary>Used % the way df computes it: of the blocks an unprivileged user can reach (root's reserve excluded).</summary>
    public double UsedPct
    {
        get
        {
            ulong used = Blocks - BlocksFree;
            ulong reachable = used + BlocksAvailable;
            return reachable == 0 ? 0 : 100.0 * used / reachable;
        }
    }

    /// <summary>Inodes used %, or 0 on file systems without a fixed inode table (btrfs reports 0 inodes).</summary>
    public double InodePct => Inodes == 0 ? 0 : 100.0 * (Inodes - InodesFree) / Inodes;

    /// <summary>Reads the stats; throws <see cref="IOException"/> with the errno text when the path cannot be examined.</summary>
    public static FileSystemStats Of(string path)
    {
        if (statvfs(path, out var raw) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"statvfs({path}): {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
        return new FileSystemStats
        {
            BlockSize = raw.FrSize,
            Blocks = raw.Blocks,
            BlocksFree = raw.BFree,
            BlocksAvailable = raw.BAvail,
            Inodes = raw.Files,
            InodesFree = raw.FFree,
            ReadOnly = (raw.Flag & ReadOnlyFlag) != 0,
        };
    }

    // The 64-bit glibc/musl layout (x86_64 and arm64 agree): eleven unsigned longs, then six spare ints.
    [StructLayout(LayoutKind.Sequential)]
    private struct RawStatvfs
    {
        public ulong BSize;
        public ulong FrSize;
        public ulong Blocks;
        public ulong BFree;
        public ulong BAvail;
        public ulong Files;
        public ulong FFree;
        public ulong FAvail;
        public ulong FsId;
        public ulong Flag;
        public ulong NameMax;
        public ulong Spare0;
        public ulong Spare1;
        public ulong Spare2;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statvfs(string path, out RawStatvfs buffer);
}
