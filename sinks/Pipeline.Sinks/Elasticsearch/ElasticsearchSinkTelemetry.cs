using Microsoft.Extensions.Logging;

namespace Pipeline.Sinks.Elasticsearch;

/// <summary>
/// Everything the Elasticsearch writer logs, in one place. Per-item outcomes are counted once, for every backend, by
/// <see cref="BatchDelivery"/>; counting them here too would count every document twice.
/// </summary>
internal static partial class ElasticsearchSinkTelemetry
{
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
