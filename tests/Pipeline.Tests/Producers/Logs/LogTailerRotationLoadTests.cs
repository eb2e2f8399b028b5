using System.Diagnostics;
using System.Text;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>Rotation every 100 ms while an application writes steadily (the issue's rename+create and copytruncate rows).</summary>
[Collection(LogTailerCollection.Name)]
public class LogTailerRotationLoadTests
{
    private static readonly TimeSpan RotateEvery = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan WriteFor = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task RenameAndCreateEvery100MillisecondsUnderLoadLosesNoLine()
    {
        await using var h = new TailerHarness("tail-rename-load-host");
        var path = h.LogFile("app.log");
        await WarmUpAsync(h, path);

        // The application: writes lines; every 100 ms logrotate renames the file and the application reopens its path.
        int written = 0, rotations = 0;
        var writer = Task.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var nextRotation = RotateEvery;
            var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            while (clock.Elapsed < WriteFor)
            {
                for (int i = 0; i < 10; i++) stream.Write(Encoding.UTF8.GetBytes($"seq {written++:D6} some payload to make the line longer\n"));
                stream.Flush();
                if (clock.Elapsed >= nextRotation)
                {
                    File.Move(path, h.LogFile($"app.log.{++rotations}"));
                    stream.Dispose();
                    stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                    nextRotation += RotateEvery;
                }
                Thread.Sleep(1);
            }
            stream.Dispose();
        }, TestContext.Current.CancellationToken);
        // Consume while the writer writes: the embedded broker keeps only about 5 MiB per partition.
        while (!writer.IsCompleted) h.Drain();
        await writer;

        var received = h.WaitFor(r => Sequences(r).Count >= written, $"all {written} lines", TimeSpan.FromSeconds(30));
        h.Settle(TimeSpan.FromMilliseconds(500));
        var seen = Sequences(h.Received);
        int duplicates = h.Received.Count(r => r.Event.Message.StartsWith("seq ", StringComparison.Ordinal)) - seen.Count;
        TestContext.Current.TestOutputHelper?.WriteLine($"{written} lines, {rotations} rotations: {seen.Count} arrived, {duplicates} duplicates");
        Assert.True(rotations >= 20, $"only {rotations} rotations");
        Assert.Equal(Enumerable.Range(0, written), seen.Order());
        Assert.Equal(0, duplicates);
    }

    [Fact]
    public async Task CopytruncateEvery100MillisecondsUnderLoadLosesOnlyWhatTheRotatorItselfRaces()
    {
        await using var h = new TailerHarness("tail-copytruncate-load-host");
        var path = h.LogFile("app.log");
        await WarmUpAsync(h, path);

        // Two threads, as in real life: the application appends (O_APPEND) while logrotate copies and truncates.
        // Lines written between the copy and the truncate are in neither file: that is the rotator's own race,
        // measured here from the writer's clock.
        int written = 0;
        var writeTimes = new List<long>();
        var races = new List<(long From, long To)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            using var stream = new AppendOnlyFile(path);
            while (!stop.IsCancellationRequested)
            {
                for (int i = 0; i < 5; i++)
                {
                    lock (writeTimes) writeTimes.Add(clock.ElapsedTicks);
                    stream.Write(Encoding.UTF8.GetBytes($"seq {written++:D6} some payload to make the line longer\n"));
                }
                Thread.Sleep(1);
            }
        }, TestContext.Current.CancellationToken);
        var rotator = Task.Run(() =>
        {
            int n = 0;
            while (clock.Elapsed < WriteFor)
            {
                Thread.Sleep(RotateEvery);
                long from = clock.ElapsedTicks;
                File.Copy(path, h.LogFile($"app.log.{++n}"));
                using (var t = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) t.SetLength(0);
                races.Add((from, clock.ElapsedTicks));
            }
            stop.Cancel();
        }, TestContext.Current.CancellationToken);
        while (!rotator.IsCompleted || !writer.IsCompleted) h.Drain();
        await Task.WhenAll(writer, rotator);

        h.Settle(TimeSpan.FromSeconds(2));
        var seen = Sequences(h.Received);
        var lost = Enumerable.Range(0, written).Where(i => !seen.Contains(i)).ToList();
        bool InRace(int seq) => races.Any(r => writeTimes[seq] >= r.From && writeTimes[seq] <= r.To);
        var lostInRace = lost.Where(InRace).ToList();
        var lostOutside = lost.Where(s => !InRace(s)).ToList();
        // How long before the next copy each of the others was written: the tailer's reading latency at that moment.
        var tailerLag = lostOutside.Select(s => races.Where(r => r.From >= writeTimes[s]).Select(r => (r.From - writeTimes[s]) * 1000.0 / Stopwatch.Frequency).DefaultIfEmpty(double.NaN).Min()).ToList();
        int duplicates = h.Received.Count(r => r.Event.Message.StartsWith("seq ", StringComparison.Ordinal)) - seen.Count;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{written} lines, {races.Count} copytruncates: {seen.Count} arrived; lost in the rotator's copy-to-truncate window: {lostInRace.Count}; " +
            $"lost outside it: {lostOutside.Count} (written {string.Join(", ", tailerLag.Select(ms => $"{ms:F0}"))} ms before the copy); duplicates: {duplicates}");
        Assert.True(races.Count >= 20, $"only {races.Count} rotations");
        // copytruncate cannot be followed without loss: what is written after the tailer's last read and before
        // the truncate is gone from the file before anyone can read it. What must hold is that this is only
        // the last moments before each copy (the tailer keeps up, and notices every truncation), and that
        // nothing is sent twice.
        Assert.True(tailerLag.All(ms => ms <= 60), $"lines lost that were written long before their copytruncate: {string.Join(", ", tailerLag.Where(ms => ms > 60).Select(ms => $"{ms:F0} ms"))}");
        Assert.True(lost.Count <= written / 10, $"{lost.Count} of {written} lines lost");
        Assert.Equal(0, duplicates);
    }

    // The first lines go through code not yet compiled (JIT): a tailer's first fraction of a second is not what these tests measure.
    private static async Task WarmUpAsync(TailerHarness h, string path)
    {
        TailerHarness.Append(path, string.Concat(Enumerable.Range(0, 200).Select(i => $"warm-up {i}\n")));
        await h.StartTailerAsync();
        h.WaitForMessages("warm-up 199");
        File.WriteAllText(path, "");
        h.Settle(TimeSpan.FromMilliseconds(300));
    }

    private static HashSet<int> Sequences(IEnumerable<Received> received)
    {
        var set = new HashSet<int>();
        foreach (var r in received)
        {
            if (r.Event.Message.StartsWith("seq ", StringComparison.Ordinal)) set.Add(int.Parse(r.Event.Message.AsSpan(4, 6)));
        }
        return set;
    }
}
