using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.IndexLifecycleManagement;
using Elastic.Clients.Elasticsearch.IndexManagement;
using Elastic.Transport;
using Elastic.Transport.Products.Elasticsearch;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Schemas.Topics;
using Log = Pipeline.Sinks.Elasticsearch.ElasticsearchSinkTelemetry;

namespace Pipeline.Sinks.Elasticsearch;

/// <summary>
/// Writes batches to Elasticsearch data streams with the bulk API, through the official client's transport (which
/// brings authentication, gzip, the product check and typed responses). Each record becomes a <c>create</c> with its
/// stable id, so a replay answers 409 and is counted as already written. One attempt per call; retrying is
/// <see cref="BatchDelivery"/>'s job.
/// </summary>
public sealed class ElasticsearchBulkWriter : IBatchWriter
{
    public const string SinkName = "elasticsearch";

    private static readonly EndpointPath BulkEndpoint = new(Elastic.Transport.HttpMethod.POST, "/_bulk");

    // The headers the official client's own BulkRequest sends. Elasticsearch refuses a versioned Accept
    // (compatible-with=9, the transport's default) next to an unversioned NDJSON Content-Type, so both are set.
    private static readonly RequestConfiguration BulkRequestConfiguration = new() { ContentType = "application/x-ndjson", Accept = "application/json" };

    private readonly ElasticsearchClient _client;
    private readonly ElasticsearchConfig _config;
    private readonly ILogger _logger;
    private readonly IDisposable? _ownedSettings;

    /// <summary>A writer over a client the caller built and owns.</summary>
    public ElasticsearchBulkWriter(ElasticsearchClient client, ElasticsearchConfig config, ILogger logger)
        : this(client, config, logger, ownedSettings: null)
    {
    }

    private ElasticsearchBulkWriter(ElasticsearchClient client, ElasticsearchConfig config, ILogger logger, IDisposable? ownedSettings)
    {
        _client = client;
        _config = config;
        _logger = logger;
        _ownedSettings = ownedSettings;
    }

    /// <summary>The writer the sink host uses: a client built from <paramref name="config"/> (see <see cref="ElasticsearchConnection.Settings"/>).</summary>
    /// <param name="requestTimeout">Overrides <c>elasticsearch.request_timeout</c> (tests use a short one).</param>
    /// <exception cref="ArgumentException"><c>elasticsearch.url</c> is empty or not an http(s) URL, or the CA file or fingerprint is unusable.</exception>
    public static ElasticsearchBulkWriter Create(ElasticsearchConfig config, ILogger logger, TimeSpan? requestTimeout = null)
    {
        var settings = ElasticsearchConnection.Settings(config, requestTimeout);
        return new ElasticsearchBulkWriter(new ElasticsearchClient(settings), config, logger, settings);
    }

    public string Name => SinkName;

    /// <summary>The client this writer sends through.</summary>
    public ElasticsearchClient Client => _client;

    /// <summary>
    /// Installs the ILM policy and one index template per pipeline data stream (idempotent: the same bodies are PUT
    /// again). Skipped when <c>elasticsearch.install_templates</c> is false.
    /// </summary>
    /// <exception cref="ElasticsearchSetupException">Elasticsearch is unreachable, refused the credentials or privileges, or refused a body.</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (!_config.InstallTemplates)
        {
            Log.TemplatesSkipped(_logger);
            return;
        }
        await PutAsync<PutLifecycleResponse>($"/_ilm/policy/{IndexTemplates.LifecyclePolicyName}", IndexTemplates.LifecyclePolicy(_config),
            $"ILM policy {IndexTemplates.LifecyclePolicyName}", cancellationToken).ConfigureAwait(false);
        foreach (var spec in TopicCatalog.All)
        {
            var name = IndexTemplates.TemplateName(spec);
            await PutAsync<PutIndexTemplateResponse>($"/_index_template/{name}", IndexTemplates.For(spec),
                $"index template {name}", cancellationToken).ConfigureAwait(false);
        }
        Log.TemplatesInstalled(_logger, IndexTemplates.LifecyclePolicyName, TopicCatalog.All.Count, ElasticsearchConnection.Describe(_config));
    }

    private async Task PutAsync<TResponse>(string path, string body, string what, CancellationToken cancellationToken)
        where TResponse : ElasticsearchResponse, new()
    {
        TResponse response;
        try
        {
            response = await _client.Transport.RequestAsync<TResponse>(
                new EndpointPath(Elastic.Transport.HttpMethod.PUT, path), PostData.String(body), null, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ElasticsearchSetupException($"Could not install the {what} on Elasticsearch at {ElasticsearchConnection.Describe(_config)}: {e.GetBaseException().Message}", e);
        }
        cancellationToken.ThrowIfCancellationRequested();
        var details = response.ApiCallDetails;
        if (details.HasSuccessfulStatusCode) return;

        var status = details.HttpStatusCode;
        var error = response.ElasticsearchServerError?.Error;
        var cause = error is null ? "" : $" ({error.Type}: {error.Reason})";
        var cluster = ElasticsearchConnection.Describe(_config);
        var message = status switch
        {
            401 => $"Elasticsearch at {cluster} did not accept the configured credentials (HTTP 401){cause} while installing the {what}. " +
                   "Check elasticsearch.api_key or username/password; the credentials need the `manage_index_templates` and `manage_ilm` cluster privileges " +
                   "(or set elasticsearch.install_templates = false and install the templates yourself).",
            403 => $"Elasticsearch at {cluster} refused to install the {what} (HTTP 403){cause}: the credentials lack the `manage_index_templates` " +
                   "privilege (and `manage_ilm` for the lifecycle policy). Grant them, or set elasticsearch.install_templates = false and install the templates yourself.",
            null => $"Could not reach Elasticsearch at {cluster} to install the {what}: {details.OriginalException?.GetBaseException().Message ?? "no response"}",
            _ => $"Elasticsearch at {cluster} refused the {what} (HTTP {status}){cause}.",
        };
        throw new ElasticsearchSetupException(message, details.OriginalException) { Status = status };
    }

    /// <summary>
    /// Sends <paramref name="batch"/> as one bulk request (split only when Elasticsearch answers 413) and maps every
    /// item: 200/201 Created, 409 Duplicate, 429/5xx Retry, other 4xx Rejected. A request that fails as a whole
    /// (connection refused or dropped, timeout, 429, 5xx) gives Retry for every record; it never throws for those.
    /// </summary>
    public async Task<IReadOnlyList<ItemResult>> WriteAsync(IReadOnlyList<SinkRecord> batch, CancellationToken cancellationToken)
    {
        var results = new ItemResult[batch.Count];
        if (batch.Count == 0) return results;

        var slots = new int[batch.Count];
        var sendable = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            if (BulkRequestBody.IsBlank(batch[i].Value)) results[i] = BulkItemOutcomes.EmptyDocument;
            else slots[sendable++] = i;
        }
        if (sendable > 0) await SendAsync(batch, slots.AsMemory(0, sendable), results, cancellationToken).ConfigureAwait(false);

        ReportItemProblems(results);
        return results;
    }

    private async Task SendAsync(IReadOnlyList<SinkRecord> batch, ReadOnlyMemory<int> slots, ItemResult[] results, CancellationToken cancellationToken)
    {
        BulkResponse? response = null;
        Exception? failure = null;
        using (var body = BulkRequestBody.Build(batch, slots.Span))
        {
            try
            {
                response = await _client.Transport.RequestAsync<BulkResponse>(
                    BulkEndpoint, PostData.ReadOnlyMemory(body.Memory), null, BulkRequestConfiguration, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                failure = e;
            }
        }
        cancellationToken.ThrowIfCancellationRequested();

        var status = response?.ApiCallDetails.HttpStatusCode;
        if (status == 413)
        {
            if (slots.Length == 1)
            {
                results[slots.Span[0]] = BulkItemOutcomes.TooLarge;
                return;
            }
            Log.SplittingTooLargeRequest(_logger, slots.Length);
            var half = slots.Length / 2;
            await SendAsync(batch, slots[..half], results, cancellationToken).ConfigureAwait(false);
            await SendAsync(batch, slots[half..], results, cancellationToken).ConfigureAwait(false);
            return;
        }

        var items = response?.Items;
        if (response is null || !response.ApiCallDetails.HasSuccessfulStatusCode || items is null || items.Count != slots.Length)
        {
            var error = response?.ElasticsearchServerError?.Error;
            var exception = failure ?? response?.ApiCallDetails.OriginalException;
            var (type, reason) = error is not null ? (error.Type, error.Reason)
                : response is not null && response.ApiCallDetails.HasSuccessfulStatusCode
                    ? ("invalid_bulk_response", $"expected {slots.Length} items, got {items?.Count ?? 0}")
                    : ((string?)null, (string?)null);
            var result = BulkItemOutcomes.ForFailedRequest(status, type, reason, exception);
            foreach (var slot in slots.Span) results[slot] = result;
            if (BulkItemOutcomes.IsTransient(status)) Log.BulkRequestFailed(_logger, slots.Length, status, result.ErrorType!, result.ErrorReason);
            else Log.BulkRequestRefused(_logger, slots.Length, status, result.ErrorType!, result.ErrorReason);
            return;
        }

        var n = 0;
        var span = slots.Span;
        foreach (var item in items)
        {
            results[span[n++]] = BulkItemOutcomes.ForItem(item.Status, item.Error?.Type, item.Error?.Reason);
        }
    }

    private void ReportItemProblems(ItemResult[] results)
    {
        int rejected = 0, retried = 0;
        ItemResult firstRejected = default, firstRetried = default;
        foreach (var result in results)
        {
            if (result.Outcome == ItemOutcome.Rejected && rejected++ == 0) firstRejected = result;
            if (result.Outcome == ItemOutcome.Retry && retried++ == 0) firstRetried = result;
        }
        if (rejected > 0) Log.ItemsRejected(_logger, rejected, results.Length, firstRejected.ErrorType, firstRejected.ErrorReason);
        if (retried > 0 && retried < results.Length) Log.ItemsToRetry(_logger, retried, results.Length, firstRetried.ErrorType, firstRetried.ErrorReason);
    }

    public ValueTask DisposeAsync()
    {
        _ownedSettings?.Dispose();
        return ValueTask.CompletedTask;
    }
}
