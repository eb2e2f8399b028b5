namespace Pipeline.Sinks.Elasticsearch;

/// <summary>
/// Elasticsearch's answers, as <see cref="ItemResult"/>s, following Elastic's ingestion guidance: retry only 429 and
/// 5xx items, treat 409 on <c>create</c> as already written, dead-letter every other 4xx.
/// </summary>
internal static class BulkItemOutcomes
{
    /// <summary>One bulk item by its status and error.</summary>
    public static ItemResult ForItem(int status, string? errorType, string? errorReason) => status switch
    {
        200 or 201 => ItemResult.Created,
        409 => ItemResult.Duplicate,
        429 or >= 500 => new ItemResult(ItemOutcome.Retry, errorType ?? $"http_{status}", errorReason),
        >= 400 => new ItemResult(ItemOutcome.Rejected, errorType ?? $"http_{status}", errorReason),
        // No status or one Elasticsearch never sends for an item: try again rather than lose the record.
        _ => new ItemResult(ItemOutcome.Retry, errorType ?? "unexpected_item_status", errorReason ?? $"item status {status}"),
    };

    /// <summary>
    /// Every record of a request that failed as a whole is retried: a connection error, timeout, 429 or 5xx heals by
    /// itself, and no single record is to blame for any other whole-request status (the action lines are ours, and a
    /// record can only break its own item).
    /// </summary>
    public static ItemResult ForFailedRequest(int? status, string? errorType, string? errorReason, Exception? exception)
    {
        var type = errorType
            ?? (status is null ? (IsTimeout(exception) ? "timeout" : "connection_error") : $"http_{status}");
        var reason = errorReason ?? exception?.GetBaseException().Message ?? $"HTTP {status}";
        return new ItemResult(ItemOutcome.Retry, type, reason);
    }

    /// <summary>Whether a whole-request failure is one that retrying alone will fix.</summary>
    public static bool IsTransient(int? status) => status is null or 408 or 429 or >= 500;

    /// <summary>A single document bigger than the cluster accepts in one request: it can never be written.</summary>
    public static readonly ItemResult TooLarge = new(ItemOutcome.Rejected, "request_entity_too_large",
        "the document alone is larger than the cluster's http.max_content_length");

    /// <summary>An empty value: Elasticsearch could only refuse it, so it is not sent.</summary>
    public static readonly ItemResult EmptyDocument = new(ItemOutcome.Rejected, "document_parsing_exception", "the record value is empty");

    private static bool IsTimeout(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException or TaskCanceledException) return true;
        }
        return false;
    }
}
