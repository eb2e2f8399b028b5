using System.Text;
using CsCheck;
using Pipeline.Processors.Rules;
using Streamiz.Kafka.Net.Crosscutting;
using Streamiz.Kafka.Net.Stream;

namespace Pipeline.Tests.Processors;

/// <summary>The rules' window store: one value per (key, window start), expiry by retention, range reads in window order.</summary>
public class HashedWindowStoreTests
{
    private const long Retention = 5_000;
    private const long Size = 1_000;

    private static Bytes Key(int k) => Bytes.Wrap(Encoding.UTF8.GetBytes($"host-{k}"));

    [Fact]
    public void ItBehavesAsAMapOfKeyAndWindowThatForgetsWindowsOlderThanTheRetention()
    {
        // Operations: (key, window index, value or -1 for a delete, fetch instead of put). Few keys and windows, so
        // that fetches often hit what a put or delete just touched, and windows both expire and come back late.
        var op = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 15], Gen.Int[-1, 3], Gen.Bool);
        op.Array[1, 300].Sample(ops =>
        {
            var store = new HashedWindowStore("s", Retention, Size);
            var model = new Dictionary<(int, long), int>();
            long observed = -1;
            foreach (var (key, index, value, fetch) in ops)
            {
                long start = index * Size;
                if (fetch)
                {
                    byte[]? got = store.Fetch(Key(key), start);
                    int? expected = start <= observed - Retention ? null : model.TryGetValue((key, start), out var v) ? v : null;
                    if ((got is null ? (int?)null : got[0]) != expected)
                        throw new InvalidOperationException($"fetch host-{key} @{start}: got {(got is null ? "null" : got[0])}, expected {expected?.ToString() ?? "null"}");
                    continue;
                }
                store.Put(Key(key), value < 0 ? null! : [(byte)value], start);
                if (start > observed)
                {
                    observed = start;
                    foreach (var k in model.Keys.Where(k => k.Item2 <= observed - Retention).ToList()) model.Remove(k);
                }
                if (start <= observed - Retention) continue;
                if (value < 0) model.Remove((key, start));
                else model[(key, start)] = value;
            }
        });
    }

    [Fact]
    public void WindowsBeyondTheRetentionAreDroppedSoMemoryFollowsTheActiveWindows()
    {
        var store = new HashedWindowStore("s", Retention, Size);
        for (long start = 0; start < 1_000 * Size; start += Size)
        {
            for (int k = 0; k < 10; k++) store.Put(Key(k), [1], start);
        }
        // A window is dropped once it starts Retention or more before the newest: Retention / Size windows remain.
        Assert.Equal((int)(Retention / Size), store.WindowCount);
        Assert.Null(store.Fetch(Key(0), 0));
        Assert.NotNull(store.Fetch(Key(0), 999 * Size));
    }

    [Fact]
    public void RangeReadsReturnWindowsInOrderWithTheirBounds()
    {
        var store = new HashedWindowStore("s", Retention, Size);
        store.Put(Key(1), [3], 3 * Size);
        store.Put(Key(1), [1], 1 * Size);
        store.Put(Key(2), [9], 2 * Size);
        store.Put(Key(1), [2], 2 * Size);

        using var forKey = store.Fetch(Key(1), 0, 10 * Size);
        var starts = new List<long>();
        while (forKey.MoveNext()) starts.Add(forKey.Current!.Value.Key);
        Assert.Equal([1 * Size, 2 * Size, 3 * Size], starts);

        using var all = store.FetchAll(DateTimeOffset.FromUnixTimeMilliseconds(2 * Size).UtcDateTime, DateTimeOffset.FromUnixTimeMilliseconds(2 * Size).UtcDateTime);
        var windows = new List<string>();
        while (all.MoveNext())
        {
            var (key, value) = (all.Current!.Value.Key, all.Current.Value.Value);
            windows.Add($"{Encoding.UTF8.GetString(key.Key.Get)} {key.Window.StartMs}-{key.Window.EndMs}={value[0]}");
        }
        Assert.Equal(["host-1 2000-3000=2", "host-2 2000-3000=9"], windows.Order());
    }
}
