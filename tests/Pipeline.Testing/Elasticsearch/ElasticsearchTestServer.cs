using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>
/// An Elasticsearch-compatible HTTP server the tests own, on 127.0.0.1 and a free port. It speaks enough of
/// Elasticsearch 9 for the official .NET client to accept it (product header, REST compatibility media types, gzip
/// bodies) and reproduces the semantics a sink depends on: bulk <c>create</c>/<c>index</c> with 201/409, data streams
/// from index templates (create-only, <c>@timestamp</c> required), mapping errors, and search. Tests inject the
/// failures Elasticsearch really produces (429 per item, whole-request 5xx, slow answers, dropped connections) and
/// inspect what arrived. Thread-safe: several bulk requests may be in flight.
/// </summary>
public sealed class ElasticsearchTestServer : IAsyncDisposable
{
    private readonly ClusterState _state = new();
    private readonly FaultPlan _faults = new();
    private readonly SecurityRealm _security = new();
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private readonly RestRouter _router;
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private int _bulkRequests;
    private int _bulkInProgress;
    private int _maxBulkInProgress;
    private int _itemsReceived;
    private X509Certificate2? _certificate;
    private X509Certificate2Collection? _chain;
    private int _port;
    private long _answerDelayTicks;
    private long _maxContentLength = 100L * 1024 * 1024;

    private ElasticsearchTestServer(bool builtInTemplates)
    {
        if (builtInTemplates) _state.InstallBuiltInTemplates();
        _router = new RestRouter(_state, _faults, n => Interlocked.Add(ref _itemsReceived, n));
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>The Elasticsearch version the server reports.</summary>
    public static string Version => RestRouter.Version;

    /// <summary>
    /// Starts a server on 127.0.0.1 and a free port.
    /// </summary>
    /// <param name="builtInTemplates">
    /// Install the templates a fresh Elasticsearch 9 has (<c>logs</c> for <c>logs-*-*</c> and <c>metrics</c> for
    /// <c>metrics-*-*</c>, priority 100, data streams), so that <c>logs-x-y</c> is a data stream even before a test installs its own templates.
    /// </param>
    public static Task<ElasticsearchTestServer> StartAsync(bool builtInTemplates = true, CancellationToken cancellationToken = default)
        => StartAsync(builtInTemplates, certificate: null, chain: null, cancellationToken);

    /// <summary>
    /// Starts a server that speaks HTTPS with <paramref name="certificate"/> (which needs its private key), sending
    /// <paramref name="chain"/> (e.g. the CA) along with it, as Elasticsearch does with its auto-generated certificates.
    /// </summary>
    public static async Task<ElasticsearchTestServer> StartAsync(bool builtInTemplates, X509Certificate2? certificate, X509Certificate2Collection? chain,
        CancellationToken cancellationToken = default)
    {
        var server = new ElasticsearchTestServer(builtInTemplates) { _certificate = certificate, _chain = chain };
        await server.ListenAsync(0, cancellationToken).ConfigureAwait(false);
        return server;
    }

    private async Task ListenAsync(int port, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port, listen =>
            {
                if (_certificate is not null)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = _certificate, ServerCertificateChain = _chain });
                }
            });
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _app = app;
        var url = new Uri(address.EndsWith('/') ? address : address + "/");
        _port = url.Port;
        Url = url;
    }

    /// <summary>
    /// Takes the server down like a stopped Elasticsearch node: it stops listening (connections are refused, requests in
    /// flight are cut off) but keeps every index, template and document, until <see cref="ResumeAsync"/>.
    /// </summary>
    public async Task PauseAsync()
    {
        var app = Interlocked.Exchange(ref _app, null);
        if (app is null) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Requests still in flight are cut off.
        }
        await app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Listens again on the same address, with everything the server held before <see cref="PauseAsync"/>.</summary>
    public Task ResumeAsync(CancellationToken cancellationToken = default) => ListenAsync(_port, cancellationToken);

    // ---- Fault injection -------------------------------------------------------------------------------------

    /// <summary>
    /// The next <paramref name="count"/> bulk items (across requests) fail with <paramref name="status"/>: by default
    /// 429 <c>es_rejected_execution_exception</c>, the retryable rejection of a full write queue. The rest of the request succeeds.
    /// </summary>
    public void RejectNextItems(int count, int status = 429) => _faults.RejectItems(count, status);

    /// <summary>The next <paramref name="count"/> requests of any kind fail whole with <paramref name="status"/> (503 by default) and an Elasticsearch error body.</summary>
    public void FailNextRequests(int count, int status = 503) => _faults.FailRequests(count, status);

    /// <summary>
    /// Documents that contain <paramref name="fieldPath"/> (dotted path) are refused with 400 and
    /// <paramref name="errorType"/> (<c>document_parsing_exception</c>, or e.g. <c>mapping_exception</c>), as when the field's mapping cannot take the value.
    /// </summary>
    public void MapFieldAsInvalid(string fieldPath, string errorType = "document_parsing_exception") => _faults.MapFieldAsInvalid(fieldPath, errorType);

    /// <summary>How long every answer waits before it is sent (after the body has been read). Zero by default.</summary>
    public TimeSpan ResponseDelay
    {
        get => _faults.ResponseDelay;
        set => _faults.ResponseDelay = value;
    }

    /// <summary>
    /// How long every answer waits after the request was carried out (documents are indexed, then the answer is late):
    /// the window in which a client that dies has written documents it never heard about. Zero by default.
    /// </summary>
    public TimeSpan AnswerDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _answerDelayTicks));
        set => Interlocked.Exchange(ref _answerDelayTicks, value.Ticks);
    }

    /// <summary>The next <paramref name="count"/> requests are read and then answered by aborting the connection, with no response at all.</summary>
    public void DropNextConnections(int count) => _faults.DropConnections(count);

    /// <summary>Largest request body accepted (as sent, before gunzip); bigger ones get 413 like <c>http.max_content_length</c>. 100 MiB by default.</summary>
    public long MaxContentLength
    {
        get => Interlocked.Read(ref _maxContentLength);
        set => Interlocked.Exchange(ref _maxContentLength, value);
    }

    /// <summary>Forgets every injected fault and delay.</summary>
    public void ClearFaults() => _faults.Clear();

    /// <summary>
    /// Turns security on (if not yet) and accepts this API key, sent as <c>Authorization: ApiKey {encodedApiKey}</c>. Without
    /// <paramref name="canManageTemplates"/>, template and ILM writes get 403 like a key lacking <c>manage_index_templates</c>/<c>manage_ilm</c>.
    /// </summary>
    public void RequireApiKey(string encodedApiKey, bool canManageTemplates = true) => _security.AddApiKey(encodedApiKey, canManageTemplates);

    /// <summary>Turns security on (if not yet) and accepts this basic-auth user; see <see cref="RequireApiKey"/>.</summary>
    public void RequireBasicAuth(string username, string password, bool canManageTemplates = true) => _security.AddUser(username, password, canManageTemplates);

    // ---- Inspection --------------------------------------------------------------------------------------------

    /// <summary>
    /// The documents in an index or data stream (a data stream's backing index name or a <c>*</c> pattern work too), in write
    /// order; empty when there is no such target.
    /// </summary>
    public IReadOnlyList<StoredDocument> Documents(string target)
    {
        lock (_state.Gate)
        {
            return [.. _state.Resolve(target, out _).SelectMany(t => t.Documents)];
        }
    }

    /// <summary>Whether <paramref name="name"/> exists and is a data stream.</summary>
    public bool IsDataStream(string name)
    {
        lock (_state.Gate)
        {
            return _state.Target(name)?.IsDataStream == true;
        }
    }

    /// <summary>The mapped type of a field of an index or data stream (<c>keyword</c>, <c>long</c>, <c>object</c>...), or null.</summary>
    public string? FieldType(string target, string fieldPath)
    {
        lock (_state.Gate)
        {
            return _state.Target(target)?.Mappings.TypeOf(fieldPath);
        }
    }

    /// <summary>Names of the stored index templates, built-in ones included.</summary>
    public IReadOnlyList<string> IndexTemplateNames
    {
        get
        {
            lock (_state.Gate)
            {
                return [.. _state.Templates.Select(t => t.Name).Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>A stored index template body as it was sent, or null.</summary>
    public JsonElement? IndexTemplate(string name)
    {
        lock (_state.Gate)
        {
            return _state.Template(name)?.Body;
        }
    }

    /// <summary>A stored ILM policy (the <c>policy</c> object), or null.</summary>
    public JsonElement? LifecyclePolicy(string name)
    {
        lock (_state.Gate)
        {
            return _state.Policies.TryGetValue(name, out var policy) ? policy.Policy : null;
        }
    }

    /// <summary>Bulk requests received, including ones answered with an injected failure or dropped.</summary>
    public int BulkRequestCount => Volatile.Read(ref _bulkRequests);

    /// <summary>Bulk requests the server is handling right now.</summary>
    public int BulkRequestsInProgress => Volatile.Read(ref _bulkInProgress);

    /// <summary>The most bulk requests the server was handling at the same time.</summary>
    public int MaxConcurrentBulkRequests => Volatile.Read(ref _maxBulkInProgress);

    /// <summary>Bulk actions received in bulk requests the server processed (not in failed or dropped ones).</summary>
    public int TotalItemsReceived => Volatile.Read(ref _itemsReceived);

    /// <summary>Every request answered (or dropped) so far, oldest first.</summary>
    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    // ---- HTTP ----------------------------------------------------------------------------------------------------

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var method = request.Method;
        var path = request.Path.Value is { Length: > 0 } p ? p : "/";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var gzipped = request.Headers.ContentEncoding.Any(v => v is not null && v.Contains("gzip", StringComparison.OrdinalIgnoreCase));
        var status = 0;
        var isBulk = RestRouter.IsBulk(segments);
        var wireBytes = 0;
        var bodyBytes = 0;
        try
        {
            context.Response.Headers["X-Elastic-Product"] = "Elasticsearch";
            if (isBulk)
            {
                Interlocked.Increment(ref _bulkRequests);
                var now = Interlocked.Increment(ref _bulkInProgress);
                int max;
                while (now > (max = Volatile.Read(ref _maxBulkInProgress)) && Interlocked.CompareExchange(ref _maxBulkInProgress, now, max) != max) { }
            }

            if (request.ContentLength > MaxContentLength)
            {
                status = 413;
                context.Response.StatusCode = 413;
                return;
            }
            byte[] body;
            try
            {
                (body, wireBytes) = await ReadBodyAsync(request, gzipped, context.RequestAborted).ConfigureAwait(false);
            }
            catch (InvalidDataException e)
            {
                status = 400;
                await WriteAsync(context, EsResponse.Error(400, "illegal_argument_exception", $"could not decompress the request body: {e.Message}")).ConfigureAwait(false);
                return;
            }
            bodyBytes = body.Length;
            if (wireBytes > MaxContentLength)
            {
                status = 413;
                context.Response.StatusCode = 413;
                return;
            }

            if (_faults.TakeDrop())
            {
                context.Abort();
                return;
            }
            var delay = _faults.ResponseDelay;
            if (delay > TimeSpan.Zero)
            {
                using var either = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
                await Task.Delay(delay, either.Token).ConfigureAwait(false);
            }

            var response = _security.Check(request.Headers.Authorization.FirstOrDefault(), method, path, segments);
            if (response is null && _faults.TakeRequestFailure(out var failStatus))
            {
                response = EsResponse.Error(failStatus, EsError.ForTransientStatus(failStatus));
            }
            if (response is null)
            {
                var mediaError = RestRouter.CheckMediaTypes(request.ContentType, request.Headers.Accept.ToString(), body.Length > 0);
                response = mediaError is null
                    ? _router.Dispatch(method, path, segments, request.Query, body)
                    : EsResponse.Error(mediaError.Reason.StartsWith("Content-Type header [", StringComparison.Ordinal) ? 406 : 400, mediaError);
            }
            status = response.Status;
            var answerDelay = AnswerDelay;
            if (answerDelay > TimeSpan.Zero)
            {
                using var either = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
                await Task.Delay(answerDelay, either.Token).ConfigureAwait(false);
            }
            await WriteAsync(context, response).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
            // The client gave up (timeout) or the server is stopping; nothing to answer.
            context.Abort();
        }
        finally
        {
            if (isBulk) Interlocked.Decrement(ref _bulkInProgress);
            var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            _requests.Enqueue(new ReceivedRequest(method, path, request.QueryString.Value ?? "", gzipped, wireBytes, bodyBytes, status, headers));
        }
    }

    private static async Task<(byte[] Body, int WireBytes)> ReadBodyAsync(HttpRequest request, bool gzipped, CancellationToken cancellationToken)
    {
        using var wire = new MemoryStream();
        await request.Body.CopyToAsync(wire, cancellationToken).ConfigureAwait(false);
        var wireBytes = (int)wire.Length;
        if (!gzipped) return (wire.ToArray(), wireBytes);
        wire.Position = 0;
        using var gzip = new GZipStream(wire, CompressionMode.Decompress);
        using var plain = new MemoryStream();
        await gzip.CopyToAsync(plain, cancellationToken).ConfigureAwait(false);
        return (plain.ToArray(), wireBytes);
    }

    private static async Task WriteAsync(HttpContext context, EsResponse response)
    {
        context.Response.StatusCode = response.Status;
        if (response.Headers is not null)
        {
            foreach (var (name, value) in response.Headers) context.Response.Headers[name] = value;
        }
        if (response.Body is null) return;
        // Like Elasticsearch, answer in the compatible-with media type the client asked for.
        var accept = context.Request.Headers.Accept.ToString();
        context.Response.ContentType = accept.Contains("compatible-with=", StringComparison.OrdinalIgnoreCase)
            ? $"application/vnd.elasticsearch+json;compatible-with={(accept.Contains("compatible-with=8", StringComparison.Ordinal) ? 8 : 9)}"
            : "application/json";
        context.Response.ContentLength = response.Body.Length;
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await context.Response.Body.WriteAsync(response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Stops listening; connections still open are closed.</summary>
    public async ValueTask DisposeAsync()
    {
        var app = Interlocked.Exchange(ref _app, null);
        if (app is null) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Requests still in flight are cut off.
        }
        await app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
