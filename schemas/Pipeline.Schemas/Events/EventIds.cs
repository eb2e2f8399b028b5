using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Pipeline.Schemas.Events;

/// <summary>
/// Deterministic event ids. The same source position always gives the same id, so a replay after a
/// crash is recognised downstream (Elasticsearch answers 409 on create) instead of indexed twice.
/// </summary>
public static class EventIds
{
    /// <summary>
    /// Id of a log line: host, file identity, byte offset and the line's bytes. Re-reading the same line
    /// gives the same id; different content at the same offset (after a copytruncate) gives a new one.
    /// </summary>
    public static string ForLogLine(string host, string fileIdentity, long offset, ReadOnlySpan<byte> line)
    {
        Span<byte> hex = stackalloc byte[32];
        WriteLogLineId(hex, host, fileIdentity, offset, line);
        return Encoding.ASCII.GetString(hex);
    }

    /// <summary>The same id as <see cref="ForLogLine"/>, written as 32 ASCII hex bytes without allocating.</summary>
    public static void WriteLogLineId(Span<byte> destination, string host, string fileIdentity, long offset, ReadOnlySpan<byte> line)
    {
        Span<byte> buffer = stackalloc byte[512];
        var hash = new XxHash128();
        Append(ref hash, host, buffer);
        Append(ref hash, fileIdentity, buffer);
        Span<byte> offsetBytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(offsetBytes, offset);
        hash.Append(offsetBytes);
        hash.Append(line);
        Span<byte> digest = stackalloc byte[16];
        hash.GetCurrentHash(digest);
        if (!Convert.TryToHexStringLower(digest, destination, out _)) throw new ArgumentException("destination must hold 32 bytes", nameof(destination));
    }

    /// <summary>
    /// Id of a process sample or event: host, pid, the process's start time in clock ticks since boot
    /// (so a reused pid is a different process), what happened and when (ms since the epoch).
    /// </summary>
    public static string ForProcess(string host, int pid, long startTicks, string action, long unixMs)
    {
        Span<byte> buffer = stackalloc byte[512];
        var hash = new XxHash128();
        Append(ref hash, host, buffer);
        Append(ref hash, action, buffer);
        Span<byte> numbers = stackalloc byte[20];
        BinaryPrimitives.WriteInt32LittleEndian(numbers, pid);
        BinaryPrimitives.WriteInt64LittleEndian(numbers[4..], startTicks);
        BinaryPrimitives.WriteInt64LittleEndian(numbers[12..], unixMs);
        hash.Append(numbers);
        return Hex(ref hash);
    }

    /// <summary>Id from any ordered list of parts (alerts: fingerprint, status and time).</summary>
    public static string FromParts(params ReadOnlySpan<string> parts)
    {
        Span<byte> buffer = stackalloc byte[512];
        var hash = new XxHash128();
        foreach (var part in parts) Append(ref hash, part, buffer);
        return Hex(ref hash);
    }

    /// <summary>Id from content, for records that carry no id of their own.</summary>
    public static string FromContent(ReadOnlySpan<byte> content)
    {
        var hash = new XxHash128();
        hash.Append(content);
        return Hex(ref hash);
    }

    private static void Append(ref XxHash128 hash, string value, Span<byte> buffer)
    {
        // Length-prefix each part so ("ab","c") and ("a","bc") differ.
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(len, value.Length);
        hash.Append(len);
        if (Encoding.UTF8.GetMaxByteCount(value.Length) <= buffer.Length)
        {
            int n = Encoding.UTF8.GetBytes(value, buffer);
            hash.Append(buffer[..n]);
        }
        else
        {
            hash.Append(Encoding.UTF8.GetBytes(value));
        }
    }

    private static string Hex(ref XxHash128 hash)
    {
        Span<byte> digest = stackalloc byte[16];
        hash.GetCurrentHash(digest);
        return Convert.ToHexStringLower(digest);
    }
}
