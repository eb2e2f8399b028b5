namespace Pipeline.Sinks.Elasticsearch;

/// <summary>The Elasticsearch sink cannot start: templates could not be installed. The message says why and what to do.</summary>
public sealed class ElasticsearchSetupException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>HTTP status Elasticsearch answered, or null when it could not be reached.</summary>
    public int? Status { get; init; }
}
