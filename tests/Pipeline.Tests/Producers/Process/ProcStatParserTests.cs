using System.Text;
using Pipeline.Producers.Process;

namespace Pipeline.Tests.Producers.Process;

public class ProcStatParserTests
{
    // 52 fields as Linux 6.x writes them; the name holds a space and a ')'.
    private const string WeirdStat = "4242 (we ird) name) S 1 4242 4242 0 -1 4194560 120 0 0 0 250 50 0 0 20 -5 3 0 123456 9437184 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    [Fact]
    public void StatIsParsedFromTheLastParenthesisSoNamesWithSpacesAndParenthesesWork()
    {
        var data = Encoding.ASCII.GetBytes(WeirdStat);
        Assert.True(ProcStatParser.TryParseStat(data, out var s));
        Assert.Equal("we ird) name", Encoding.ASCII.GetString(data, s.NameStart, s.NameLength));
        Assert.Equal('S', s.State);
        Assert.Equal(1, s.Ppid);
        Assert.Equal(250UL, s.UserTicks);
        Assert.Equal(50UL, s.SystemTicks);
        Assert.Equal(-5, s.Nice);
        Assert.Equal(3, s.Threads);
        Assert.Equal(123456UL, s.StartTicks);
        Assert.Equal(9437184UL, s.VirtualBytes);
        Assert.Equal(300, s.RssPages);
        Assert.False(s.IsKernelThread);
    }

    [Fact]
    public void KernelThreadsAreRecognisedByTheirFlag()
    {
        var data = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 1 0 0 20 0 1 0 1 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"u8;
        Assert.True(ProcStatParser.TryParseStat(data, out var s));
        Assert.True(s.IsKernelThread);
        Assert.Equal(0, s.Ppid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("4242 (no closing paren S 1")]
    [InlineData("4242 (x) S")]
    [InlineData("4242 (x) S notanumber 1 1")]
    public void TruncatedOrGarbledStatIsRejected(string text) => Assert.False(ProcStatParser.TryParseStat(Encoding.ASCII.GetBytes(text), out _));

    [Fact]
    public void StatusIoMeminfoAndProcStatGiveTheirNumbers()
    {
        Assert.Equal(1001, ProcStatParser.ParseEffectiveUid("Name:\tx\nUmask:\t0022\nState:\tS\nUid:\t1000\t1001\t1001\t1001\nGid:\t5\t5\t5\t5\n"u8));
        Assert.Equal(-1, ProcStatParser.ParseEffectiveUid("Name:\tx\n"u8));
        var io = "rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n"u8;
        Assert.True(ProcStatParser.TryParseKeyed(io, "read_bytes:"u8, out long read));
        Assert.True(ProcStatParser.TryParseKeyed(io, "write_bytes:"u8, out long written));
        Assert.Equal((4096L, 8192L), (read, written));
        Assert.True(ProcStatParser.TryParseKeyed("MemTotal:       16318056 kB\nMemFree: 1 kB\n"u8, "MemTotal:"u8, out long total));
        Assert.Equal(16318056, total);
        ProcStatParser.ParseProcStat("cpu  1 2 3\ncpu0 1 2 3\ncpu1 1 2 3\nintr 5\nbtime 1764244947\n"u8, out int cpus, out long boot);
        Assert.Equal((2, 1764244947L), (cpus, boot));
        Assert.Equal(1234.5, ProcStatParser.ParseUptime("1234.50 2000.00\n"u8));
    }
}
