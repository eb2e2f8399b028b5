using Elastic.Clients.Elasticsearch;
using Elastic.Transport;
using Pipeline.Plumbing.Config;

namespace Pipeline.Sinks.Elasticsearch;

/// <summary>Turns <see cref="ElasticsearchConfig"/> into official-client settings: nodes, credentials, gzip, timeouts.</summary>
public static class ElasticsearchConnection
{
    /// <summary>The node URLs in <c>elasticsearch.url</c> (comma-separated for several nodes).</summary>
    public static IReadOnlyList<Uri> Nodes(ElasticsearchConfig config)
    {
        var nodes = new List<Uri>();
        foreach (var part in config.Url.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"elasticsearch.url: '{part}' is not an http:// or https:// URL", nameof(config));
            }
            nodes.Add(uri);
        }
        if (nodes.Count == 0) throw new ArgumentException("elasticsearch.url is empty", nameof(config));
        return nodes;
    }

    /// <summary>
    /// Client settings for the configured cluster: gzip-compressed bodies, <c>elasticsearch.request_timeout</c>, an API key
    /// or basic auth, and the configured CA or fingerprint for TLS. The client does not retry on its own beyond trying
    /// each node once: retrying with backoff is <see cref="BatchDelivery"/>'s job.
    /// </summary>
    public static ElasticsearchClientSettings Settings(ElasticsearchConfig config, TimeSpan? requestTimeout = null)
    {
        var nodes = Nodes(config);
        NodePool pool = nodes.Count == 1 ? new SingleNodePool(nodes[0]) : new StaticNodePool(nodes);
        var settings = new ElasticsearchClientSettings(pool)
            .EnableHttpCompression()
            .RequestTimeout(requestTimeout ?? Plumbing.Config.Duration.Parse(config.RequestTimeout))
            .MaximumRetries(nodes.Count - 1);
        if (!string.IsNullOrEmpty(config.ApiKey))
        {
            settings = settings.Authentication(new ApiKey(config.ApiKey));
        }
        else if (!string.IsNullOrEmpty(config.Username))
        {
            settings = settings.Authentication(new BasicAuthentication(config.Username, config.Password));
        }
        if (ClusterCertificateTrust.From(config) is { } trust)
        {
            settings = settings.ServerCertificateValidationCallback(trust.Validate);
        }
        return settings;
    }

    /// <summary>The cluster address for messages: scheme, host and port only, never credentials or paths.</summary>
    public static string Describe(ElasticsearchConfig config) =>
        string.Join(",", Nodes(config).Select(u => u.GetComponents(UriComponents.SchemeAndServer, UriFormat.Unescaped)));
}
