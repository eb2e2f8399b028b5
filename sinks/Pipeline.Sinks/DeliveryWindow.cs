using Confluent.Kafka;

namespace Pipeline.Sinks;

/// <summary>
/// The batches handed to the backend and not yet finished, oldest first, at most <c>capacity</c> of them. Several may be
/// in flight and finish in any order, but offsets are released only for the finished batches at the front: a partition's
/// offset is committed only when every record before it, in this batch and the ones before, is written or dead-lettered.
/// </summary>
public sealed class DeliveryWindow(int capacity)
{
    private readonly Queue<(PendingBatch Batch, Task Delivery)> _batches = new();

    public int Count => _batches.Count;

    public bool IsFull => _batches.Count >= capacity;

    public bool IsEmpty => _batches.Count == 0;

    public void Add(PendingBatch batch, Task delivery) => _batches.Enqueue((batch, delivery));

    /// <summary>
    /// Takes the finished batches off the front and merges their offsets into <paramref name="commit"/> (later batches win).
    /// A batch that failed stops the sink: its exception is rethrown, and nothing from it or after it is released.
    /// </summary>
    /// <returns>The batches taken, oldest first; empty when the oldest is still in flight.</returns>
    public List<PendingBatch> TakeFinished(Dictionary<TopicPartition, long> commit)
    {
        List<PendingBatch>? taken = null;
        while (_batches.TryPeek(out var head) && head.Delivery.IsCompleted)
        {
            // Rethrows what the delivery threw (the backend stayed down past give_up_after, or the stop was requested).
            head.Delivery.GetAwaiter().GetResult();
            _batches.Dequeue();
            foreach (var (partition, next) in head.Batch.NextOffsets) commit[partition] = next;
            (taken ??= []).Add(head.Batch);
        }
        return taken ?? [];
    }

    /// <summary>Completes when any batch in flight finishes, or after <paramref name="timeout"/>.</summary>
    public Task WhenAnyFinishedAsync(TimeSpan timeout)
    {
        if (_batches.Count == 0) return Task.CompletedTask;
        var tasks = new Task[_batches.Count + 1];
        int i = 0;
        foreach (var (_, delivery) in _batches) tasks[i++] = delivery;
        tasks[i] = Task.Delay(timeout);
        return Task.WhenAny(tasks);
    }

    /// <summary>Every batch still in flight (to wait for on shutdown).</summary>
    public Task[] InFlight()
    {
        var tasks = new Task[_batches.Count];
        int i = 0;
        foreach (var (_, delivery) in _batches) tasks[i++] = delivery;
        return tasks;
    }
}
