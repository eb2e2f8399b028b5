using System.Text;
using Pipeline.Producers.Logs;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>Files in UTF-16 and Latin-1 become UTF-8 events, with offsets that are still bytes of the file.</summary>
public class LineEncodingTests : IDisposable
{
    private readonly TempDirectory _dir = new("pipeline-encoding");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("utf-16le")]
    [InlineData("utf-16be")]
    public void Utf16LinesAreSplitOnWholeCodeUnitsAndTranscoded(string name)
    {
        var encoding = new UnicodeEncoding(bigEndian: name == "utf-16be", byteOrderMark: true);
        // U+0A0D and U+010A hold the bytes of "\n" and "\r" in one of their halves: a byte-wise split would cut them.
        string[] lines = ["first ✓", "\u0A0D\u010A inside", "crlf line", "emoji 😀 pair"];
        var path = _dir.File("u16.log");
        var bytes = encoding.GetPreamble().Concat(encoding.GetBytes($"{lines[0]}\n{lines[1]}\n{lines[2]}\r\n{lines[3]}\n")).ToArray();
        File.WriteAllBytes(path, bytes);

        using var reader = Open(path, name);
        var sink = new CollectingSink();
        Assert.Equal(4, reader.ReadLines(sink, 100, out _));
        Assert.Equal(lines, sink.Texts);
        // Offsets are file bytes: the first line starts at 0 (its BOM is not part of the message), the next after "first ✓\n" plus the BOM.
        Assert.Equal(0, sink.Lines[0].Offset);
        Assert.Equal(2 + 2 * 8, sink.Lines[1].Offset);
        Assert.Equal(bytes.Length, sink.Lines[^1].AckOffset);
    }

    [Fact]
    public void AUtf16NewlineSplitAcrossTwoWritesIsStillFound()
    {
        var path = _dir.File("u16-split.log");
        var all = Encoding.Unicode.GetBytes("one\ntwo\n");
        // Everything up to and including the first byte of the first newline.
        File.WriteAllBytes(path, all[..7]);
        using var reader = Open(path, "utf-16le");
        var sink = new CollectingSink();
        Assert.Equal(0, reader.ReadLines(sink, 100, out _));
        using (var s = new FileStream(path, FileMode.Append)) s.Write(all[7..]);
        Assert.Equal(2, reader.ReadLines(sink, 100, out _));
        Assert.Equal(["one", "two"], sink.Texts);
        Assert.Equal(8, sink.Lines[1].Offset);
    }

    [Fact]
    public void Latin1BytesAboveAsciiBecomeTwoByteUtf8()
    {
        var path = _dir.File("latin1.log");
        File.WriteAllBytes(path, [.. "caf"u8, 0xE9, .. " cr"u8, 0xE8, .. "me\n"u8, .. "plain\r\n"u8]);
        using var reader = Open(path, "latin-1");
        var sink = new CollectingSink();
        reader.ReadLines(sink, 100, out _);
        Assert.Equal(["café crème", "plain"], sink.Texts);
        Assert.Equal(11, sink.Lines[1].Offset);
    }

    [Fact]
    public void AUtf8ByteOrderMarkIsNotPartOfTheFirstMessage()
    {
        var path = _dir.File("bom.log");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. "first\nsecond\n"u8]);
        using var reader = Open(path, "utf-8");
        var sink = new CollectingSink();
        reader.ReadLines(sink, 100, out _);
        Assert.Equal(["first", "second"], sink.Texts);
    }

    [Fact]
    public void TruncatingAUtf16LineKeepsWholeCharacters()
    {
        var path = _dir.File("u16-long.log");
        // 'x' then surrogate pairs: an even cut at 256 bytes would fall between the halves of one.
        var line = "x" + string.Concat(Enumerable.Repeat("😀", 200));
        File.WriteAllBytes(path, Encoding.Unicode.GetBytes(line + "\nnext\n"));
        using var reader = Open(path, "utf-16le", maxLineBytes: 256);
        var sink = new CollectingSink();
        reader.ReadLines(sink, 100, out _);
        Assert.Equal(LineFlags.Truncated, sink.Lines[0].Flags);
        Assert.DoesNotContain('\uFFFD', sink.Lines[0].Text);
        Assert.Equal(line[..127], sink.Lines[0].Text);
        Assert.Equal("next", sink.Lines[1].Text);
    }

    private static LogFileReader Open(string path, string encoding, int maxLineBytes = 1024)
        => new(path, FileIdentity.Of(path)!.Value, 0, maxLineBytes, LineEncoding.For(encoding));
}
