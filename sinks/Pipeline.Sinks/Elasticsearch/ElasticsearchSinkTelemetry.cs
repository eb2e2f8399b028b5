using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Telemetry;
using Prometheus;

namespace Pipeline.Sinks.Elasticsearch;

/// <summary>Everything the Elasticsearch writer reports: its log events and its per-item outcome counters, in one place.</summary>
internal static partial class ElasticsearchSinkTelemetry
{
    private static readonly Counter.Child Created = PipelineMetrics.BulkItems.WithLabels(ElasticsearchBulkWriter.SinkName, "created");
    private static readonly Counter.Child Duplicate = PipelineMetrics.BulkItems.WithLabels(ElasticsearchBulkWriter.SinkName, "duplicate");
    private static readonly Counter.Child Retried = PipelineMetrics.BulkItems.WithLabels(ElasticsearchBulkWriter.SinkName, "retried");
    private static readonly Counter.Child Rejected = PipelineMetrics.BulkItems.WithLabels(ElasticsearchBulkWriter.SinkName, "rejected");

    /// <summary>Counts one write's outcomes (one counter increment per outcome, not per item).</summary>
    public static void CountOutcomes(ReadOnlySpan<ItemResult> results)
    {
        int created = 0, duplicate = 0, retried = 0, rejected = 0;
        foreach (var result in results)
        {
            switch (result.Outcome)
            {
                case ItemOutcome.Created: created++; break;
                case ItemOutcome.Duplicate: duplicate++; break;
                case ItemOutcome.Retry: retried++; break;
                case ItemOutcome.Rejected: rejected++; break;
            }
        }
        if (created > 0) Created.Inc(created);
        if (duplicate > 0) Duplicate.Inc(duplicate);
        if (retried > 0) Retried.Inc(retried);
        if (rejected > 0) Rejected.Inc(rejected);
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Elasticsearch bulk request with {Count} documents failed as a whole (status {Status}, {ErrorType}: {ErrorReason}); every document will be retried")]
    public static partial void BulkRequestFailed(ILogger logger, int count, int? status, string errorType, string? errorReason);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Elasticsearch refused the bulk request with {Count} documents (status {Status}, {ErrorType}: {ErrorReason}); this will not heal by retrying, check the URL, credentials and proxies")]
    public static partial void BulkRequestRefused(ILogger logger, int count, int? status, string errorType, string? errorReason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Elasticsearch rejected {Count} of {Total} documents; first: {ErrorType}: {ErrorReason}")]
    public static partial void ItemsRejected(ILogger logger, int count, int total, string? errorType, string? errorReason);

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "Elasticsearch asked to retry {Count} of {Total} documents; first: {ErrorType}: {ErrorReason}")]
    public static partial void ItemsToRetry(ILogger logger, int count, int total, string? errorType, string? errorReason);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Elasticsearch answered 413 for a bulk request with {Count} documents; splitting it in two")]
    public static partial void SplittingTooLargeRequest(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Installed Elasticsearch ILM policy {Policy} and {Templates} index templates on {Cluster}")]
    public static partial void TemplatesInstalled(ILogger logger, string policy, int templates, string cluster);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Not installing Elasticsearch index templates (elasticsearch.install_templates = false)")]
    public static partial void TemplatesSkipped(ILogger logger);
}
