namespace Pipeline.Sinks;

/// <summary>
/// A backend the sink writes batches to. One attempt per call: retrying, backoff, dead-lettering and
/// offset commits are done once, for every backend, by <see cref="BatchDelivery"/>.
/// </summary>
public interface IBatchWriter : IAsyncDisposable
{
    /// <summary>Short name for logs and metric labels, e.g. <c>elasticsearch</c>.</summary>
    string Name { get; }

    /// <summary>One-time setup before the first write (index templates, directories). Throws with a clear message when it cannot.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="batch"/> once and returns one result per record, in the same order.
    /// A whole-request failure (connection refused, timeout, 5xx) returns <see cref="ItemOutcome.Retry"/> for every record rather than throwing.
    /// </summary>
    Task<IReadOnlyList<ItemResult>> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellationToken);
}
