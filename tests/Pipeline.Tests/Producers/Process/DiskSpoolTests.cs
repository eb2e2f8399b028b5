using System.Text;
using Pipeline.Producers.Process;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Process;

public class DiskSpoolTests
{
    private static readonly byte[] Key = "web-1"u8.ToArray();

    private static byte[] Value(string text, int size = 0) => Encoding.UTF8.GetBytes(size > 0 ? text.PadRight(size, '.') : text);

    private static List<SpoolRecord> ReadAll(DiskSpool spool)
    {
        var all = new List<SpoolRecord>();
        spool.ReadNext(int.MaxValue, all);
        return all;
    }

    [Fact]
    public void RecordsComeBackInOrderAndAcknowledgedOnesAreGoneAfterARestart()
    {
        using var dir = new TempDirectory();
        using (var spool = new DiskSpool(dir.Path, 16 << 20))
        {
            for (int i = 0; i < 5; i++) spool.Append(SpoolKind.Sample, Key, Value($"s{i}"));
            spool.Append(SpoolKind.Oom, Key, Value("oom"));
            var batch = new List<SpoolRecord>();
            spool.ReadNext(3, batch);
            Assert.Equal(["s0", "s1", "s2"], batch.Select(r => Encoding.UTF8.GetString(r.Value)));
            spool.Acknowledge(batch[^1].Sequence);
            Assert.Equal(3, spool.Count);
        }
        // As after a kill -9: a new process opens the same directory.
        using var reopened = new DiskSpool(dir.Path, 16 << 20);
        Assert.Equal(3, reopened.Count);
        var rest = ReadAll(reopened);
        Assert.Equal(["s3", "s4", "oom"], rest.Select(r => Encoding.UTF8.GetString(r.Value)));
        Assert.Equal([SpoolKind.Sample, SpoolKind.Sample, SpoolKind.Oom], rest.Select(r => r.Kind));
        Assert.Equal(Key, rest[0].Key);
        reopened.Append(SpoolKind.Event, Key, Value("after"));
        Assert.True(ReadAll(reopened).Single().Sequence > rest[^1].Sequence);
    }

    [Fact]
    public void AfterARewindTheUnacknowledgedRecordsComeAgain()
    {
        using var dir = new TempDirectory();
        using var spool = new DiskSpool(dir.Path, 16 << 20);
        for (int i = 0; i < 4; i++) spool.Append(SpoolKind.Sample, Key, Value($"s{i}"));
        var first = new List<SpoolRecord>();
        spool.ReadNext(2, first);
        spool.Acknowledge(first[0].Sequence);
        spool.Rewind();
        Assert.Equal(["s1", "s2", "s3"], ReadAll(spool).Select(r => Encoding.UTF8.GetString(r.Value)));
    }

    [Fact]
    public void ARecordTornByACrashIsCutOffAndTheRestSurvives()
    {
        using var dir = new TempDirectory();
        using (var spool = new DiskSpool(dir.Path, 16 << 20))
        {
            spool.Append(SpoolKind.Sample, Key, Value("whole"));
            spool.Append(SpoolKind.Sample, Key, Value("torn", 200));
        }
        var segment = Directory.GetFiles(dir.Path, "*.seg").Single();
        using (var f = new FileStream(segment, FileMode.Open)) f.SetLength(f.Length - 50);
        using var reopened = new DiskSpool(dir.Path, 16 << 20);
        Assert.Equal("whole", Encoding.UTF8.GetString(Assert.Single(ReadAll(reopened)).Value));
    }

    [Fact]
    public void WhenFullTheOldestSamplesGoFirstOomEventsStayAndDropsAreCounted()
    {
        using var dir = new TempDirectory();
        const long cap = 1 << 20; // segments of 128 KiB
        using var spool = new DiskSpool(dir.Path, cap);
        spool.Append(SpoolKind.Oom, Key, Value("oom-first", 1000));
        spool.Append(SpoolKind.Event, Key, Value("start-first", 1000));
        for (int i = 0; i < 3000; i++) spool.Append(SpoolKind.Sample, Key, Value($"sample-{i:D4}", 1000));
        spool.Append(SpoolKind.Oom, Key, Value("oom-last", 1000));

        Assert.True(spool.Bytes <= cap, $"{spool.Bytes} bytes spooled, cap {cap}");
        var left = ReadAll(spool).Select(r => Encoding.UTF8.GetString(r.Value).TrimEnd('.')).ToList();
        Assert.Equal("oom-first", left[0]);
        Assert.Equal("start-first", left[1]);
        Assert.Equal("oom-last", left[^1]);
        var samples = left.Where(v => v.StartsWith("sample-", StringComparison.Ordinal)).ToList();
        Assert.Equal("sample-2999", samples[^1]); // the newest samples are kept, the oldest dropped
        Assert.Equal(samples.Order(StringComparer.Ordinal), samples); // and what is kept stays in order
        Assert.Equal(3000 - samples.Count, spool.Dropped(SpoolKind.Sample));
        Assert.Equal(0, spool.Dropped(SpoolKind.Oom));
        Assert.Equal(0, spool.Dropped(SpoolKind.Event));
    }

    [Fact]
    public void WithOnlyEventsAndOomKillsLeftEventsGoBeforeOomKills()
    {
        using var dir = new TempDirectory();
        const long cap = 1 << 20;
        using var spool = new DiskSpool(dir.Path, cap);
        for (int i = 0; i < 600; i++) spool.Append(SpoolKind.Oom, Key, Value($"oom-{i}", 1000));
        for (int i = 0; i < 2000; i++) spool.Append(SpoolKind.Event, Key, Value($"event-{i}", 1000));
        Assert.Equal(0, spool.Dropped(SpoolKind.Oom));
        Assert.True(spool.Dropped(SpoolKind.Event) > 0);
        Assert.Equal(600, ReadAll(spool).Count(r => r.Kind == SpoolKind.Oom));
    }
}
