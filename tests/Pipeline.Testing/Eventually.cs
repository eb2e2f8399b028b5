namespace Pipeline.Testing;

/// <summary>Polls a condition until it holds, for behaviour that settles asynchronously (Kafka, child processes).</summary>
public static class Eventually
{
    public static async Task<T> Get<T>(Func<Task<T?>> probe, Func<T?, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T? last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await probe();
            if (done(last)) return last!;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{what}: not reached within {timeout}; last value: {last}");
    }

    public static Task<bool> True(Func<bool> condition, TimeSpan timeout, string what)
        => Get<bool>(() => Task.FromResult(condition()), v => v, timeout, what);
}
