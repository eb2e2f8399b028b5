using System.Text;

namespace Pipeline.Producers.Logs;

/// <summary>
/// How a file's bytes are split into lines and turned into the UTF-8 events carry (<c>encoding</c>).
/// Offsets stay bytes of the file, so checkpoints and ids mean the same whatever the encoding.
/// UTF-8 passes lines through untouched; the others transcode each line into a reused buffer.
/// </summary>
internal abstract class LineEncoding
{
    public static readonly LineEncoding Utf8 = new Utf8Lines();

    public static LineEncoding For(string name) => name switch
    {
        "utf-8" or "" => Utf8,
        "utf-16le" => new Utf16Lines(bigEndian: false),
        "utf-16be" => new Utf16Lines(bigEndian: true),
        "latin-1" => new Latin1Lines(),
        _ => throw new ArgumentException($"unknown encoding \"{name}\""),
    };

    /// <summary>Bytes of the newline: 1, or 2 in UTF-16.</summary>
    public abstract int NewlineWidth { get; }

    /// <summary>Index of the next newline in <paramref name="data"/>, whose first byte is at <paramref name="fileOffset"/> in the file; -1 if none.</summary>
    public abstract int IndexOfNewline(ReadOnlySpan<byte> data, long fileOffset);

    /// <summary>The line without a final carriage return.</summary>
    public abstract ReadOnlySpan<byte> TrimCarriageReturn(ReadOnlySpan<byte> line);

    /// <summary>Length of the longest prefix of at most <paramref name="max"/> bytes that does not cut a character.</summary>
    public abstract int Prefix(ReadOnlySpan<byte> line, int max);

    /// <summary>The byte order mark this encoding may start a file with.</summary>
    public abstract ReadOnlySpan<byte> ByteOrderMark { get; }

    /// <summary>The line as UTF-8: the same span for UTF-8, else a transcoded copy in <paramref name="scratch"/> (grown as needed).</summary>
    public abstract ReadOnlySpan<byte> ToUtf8(ReadOnlySpan<byte> line, ref byte[] scratch);

    private sealed class Utf8Lines : LineEncoding
    {
        public override int NewlineWidth => 1;
        public override int IndexOfNewline(ReadOnlySpan<byte> data, long fileOffset) => data.IndexOf((byte)'\n');
        public override ReadOnlySpan<byte> TrimCarriageReturn(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;
        public override int Prefix(ReadOnlySpan<byte> line, int max) => LogEventEncoder.Utf8Prefix(line, max);
        public override ReadOnlySpan<byte> ByteOrderMark => [0xEF, 0xBB, 0xBF];
        public override ReadOnlySpan<byte> ToUtf8(ReadOnlySpan<byte> line, ref byte[] scratch) => line;
    }

    private sealed class Latin1Lines : LineEncoding
    {
        public override int NewlineWidth => 1;
        public override int IndexOfNewline(ReadOnlySpan<byte> data, long fileOffset) => data.IndexOf((byte)'\n');
        public override ReadOnlySpan<byte> TrimCarriageReturn(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;
        public override int Prefix(ReadOnlySpan<byte> line, int max) => Math.Min(line.Length, max);
        public override ReadOnlySpan<byte> ByteOrderMark => [];

        public override ReadOnlySpan<byte> ToUtf8(ReadOnlySpan<byte> line, ref byte[] scratch)
        {
            // ASCII is the same in both: most lines need no copy.
            int firstHigh = line.IndexOfAnyExceptInRange((byte)0, (byte)0x7F);
            if (firstHigh < 0) return line;
            if (scratch.Length < line.Length * 2) scratch = new byte[Math.Max(line.Length * 2, 256)];
            line[..firstHigh].CopyTo(scratch);
            int n = firstHigh;
            for (int i = firstHigh; i < line.Length; i++)
            {
                byte b = line[i];
                if (b < 0x80) scratch[n++] = b;
                else
                {
                    // Latin-1 is the first 256 code points: two UTF-8 bytes for each above ASCII.
                    scratch[n++] = (byte)(0xC0 | (b >> 6));
                    scratch[n++] = (byte)(0x80 | (b & 0x3F));
                }
            }
            return scratch.AsSpan(0, n);
        }
    }

    private sealed class Utf16Lines(bool bigEndian) : LineEncoding
    {
        private readonly Encoding _encoding = new UnicodeEncoding(bigEndian, byteOrderMark: false, throwOnInvalidBytes: false);
        private readonly byte[] _newline = bigEndian ? [0, (byte)'\n'] : [(byte)'\n', 0];
        private readonly byte[] _bom = bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE];
        private char[] _chars = new char[256];

        public override int NewlineWidth => 2;

        public override int IndexOfNewline(ReadOnlySpan<byte> data, long fileOffset)
        {
            // Code units start at even file offsets; "\n\0" at an odd one is the tail of one character and the head of the next.
            int from = 0;
            while (from < data.Length)
            {
                int i = data[from..].IndexOf(_newline);
                if (i < 0) return -1;
                int at = from + i;
                if (((fileOffset + at) & 1) == 0) return at;
                from = at + 1;
            }
            return -1;
        }

        public override ReadOnlySpan<byte> TrimCarriageReturn(ReadOnlySpan<byte> line)
        {
            if (line.Length < 2) return line;
            var last = line[^2..];
            bool cr = bigEndian ? last[0] == 0 && last[1] == '\r' : last[0] == '\r' && last[1] == 0;
            return cr ? line[..^2] : line;
        }

        public override int Prefix(ReadOnlySpan<byte> line, int max)
        {
            if (line.Length <= max) return line.Length;
            int cut = max & ~1;
            // Do not end on the first half of a surrogate pair.
            if (cut >= 2)
            {
                int high = bigEndian ? line[cut - 2] : line[cut - 1];
                if (high is >= 0xD8 and <= 0xDB) cut -= 2;
            }
            return cut;
        }

        public override ReadOnlySpan<byte> ByteOrderMark => _bom;

        public override ReadOnlySpan<byte> ToUtf8(ReadOnlySpan<byte> line, ref byte[] scratch)
        {
            int chars = _encoding.GetMaxCharCount(line.Length);
            if (_chars.Length < chars) _chars = new char[Math.Max(chars, _chars.Length * 2)];
            // Broken sequences (a lone surrogate, an odd last byte) become U+FFFD rather than failing the line.
            int n = _encoding.GetChars(line, _chars);
            int bytes = Encoding.UTF8.GetMaxByteCount(n);
            if (scratch.Length < bytes) scratch = new byte[Math.Max(bytes, 256)];
            int written = Encoding.UTF8.GetBytes(_chars.AsSpan(0, n), scratch);
            return scratch.AsSpan(0, written);
        }
    }
}
