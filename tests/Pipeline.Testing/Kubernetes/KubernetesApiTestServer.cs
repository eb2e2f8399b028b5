using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pipeline.Testing.Kubernetes;

/// <summary>One API call as the server saw it, with the RBAC verb it needs.</summary>
public sealed record ApiCall(string Verb, string Group, string Resource, string? Subresource, string? Namespace, string? Name, string ContentType);

/// <summary>
/// A Kubernetes API server of the tests' own, on 127.0.0.1: the real paths and JSON (Status objects on
/// errors, resourceVersion, generation, watch streams) for what the operator and agent use: NodeProbes with
/// their status subresource and cluster-wide watch, DaemonSets, ConfigMaps, nodes and nodes/{name}/status,
/// with merge and strategic-merge PATCH. The official client talks to it as to a cluster. It records every
/// call, so tests can check idempotency and that RBAC covers each one.
/// </summary>
public sealed partial class KubernetesApiTestServer : IAsyncDisposable
{
    private readonly Dictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);
    private readonly List<Channel<string>> _watchers = [];
    private readonly List<ApiCall> _calls = [];
    private WebApplication? _app;
    private long _resourceVersion = 100;

    public Uri Url { get; private set; } = null!;

    /// <summary>Checks a NodeProbe against the CRD schema on create and update; a non-null answer is refused with 422, as the API server does.</summary>
    public Func<JsonObject, string?>? ValidateNodeProbe { get; set; }

    public static async Task<KubernetesApiTestServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var server = new KubernetesApiTestServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        server.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        server._app = app;
        return server;
    }

    public IReadOnlyList<ApiCall> Calls { get { lock (_objects) return [.. _calls]; } }

    public void ClearCalls() { lock (_objects) _calls.Clear(); }

    /// <summary>Calls that change something (create, update, patch, delete).</summary>
    public IReadOnlyList<ApiCall> Writes => [.. Calls.Where(c => c.Verb is "create" or "update" or "patch" or "delete")];

    // ---- Test-side access to the stored objects --------------------------------------------------------

    public void PutNode(string name, Dictionary<string, string> labels, JsonArray? conditions = null)
    {
        var node = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject(labels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) },
            ["status"] = new JsonObject { ["conditions"] = conditions ?? [] },
        };
        lock (_objects) Store(NodePath(name), node, generation: false);
    }

    public JsonObject? Node(string name) => Get(NodePath(name));
    public JsonObject? NodeProbe(string ns, string name) => Get($"/apis/ops.pipeline.dev/v1alpha1/namespaces/{ns}/nodeprobes/{name}");
    public JsonObject? DaemonSet(string ns, string name) => Get($"/apis/apps/v1/namespaces/{ns}/daemonsets/{name}");
    public JsonObject? ConfigMap(string ns, string name) => Get($"/api/v1/namespaces/{ns}/configmaps/{name}");

    /// <summary>Deletes a stored object behind the operator's back (drift) and tells the watchers.</summary>
    public void Delete(string path)
    {
        lock (_objects)
        {
            if (_objects.Remove(path, out var removed)) Notify("DELETED", path, removed);
        }
    }

    private JsonObject? Get(string path) { lock (_objects) return _objects.TryGetValue(path, out var o) ? (JsonObject)o.DeepClone() : null; }

    private static string NodePath(string name) => $"/api/v1/nodes/{name}";

    // ---- HTTP --------------------------------------------------------------------------------------------

    [GeneratedRegex("^/(?:api/v1|apis/(?<group>[^/]+)/(?<version>[^/]+))(?:/namespaces/(?<ns>[^/]+))?/(?<resource>[^/]+)(?:/(?<name>[^/]+))?(?:/(?<sub>[^/]+))?$")]
    private static partial Regex Route();

    private async Task HandleAsync(HttpContext context)
    {
        try
        {
            await RouteAsync(context);
        }
        catch (Exception e) when (e is not OperationCanceledException && !context.Response.HasStarted)
        {
            await Fail(context, 500, "InternalError", $"test API server: {e}");
        }
    }

    private async Task RouteAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        var m = Route().Match(path);
        if (!m.Success) { await Fail(context, 404, "NotFound", $"the server could not find the requested resource ({path})"); return; }
        string group = m.Groups["group"].Success ? m.Groups["group"].Value : "";
        string? ns = m.Groups["ns"].Success ? m.Groups["ns"].Value : null;
        string resource = m.Groups["resource"].Value;
        string? name = m.Groups["name"].Success ? m.Groups["name"].Value : null;
        string? sub = m.Groups["sub"].Success ? m.Groups["sub"].Value : null;
        bool watch = request.Query["watch"] is { Count: > 0 } w && w[0] is "true" or "1";
        string verb = request.Method switch
        {
            "GET" when name is null => watch ? "watch" : "list",
            "GET" => "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => request.Method.ToLowerInvariant(),
        };
        lock (_objects) _calls.Add(new ApiCall(verb, group, resource, sub, ns, name, request.ContentType ?? ""));
        var collection = path[..(name is null ? path.Length : path.LastIndexOf("/" + name + (sub is null ? "" : "/" + sub), StringComparison.Ordinal))];
        var itemPath = name is null ? null : $"{collection}/{name}";

        switch (verb)
        {
            case "watch":
                await WatchAsync(context, collection, resource);
                return;
            case "list":
                await Json(context, 200, List(collection, resource));
                return;
            case "get":
            {
                var item = Get(itemPath!);
                if (item is null) await NotFound(context, resource, name!);
                else await Json(context, 200, item);
                return;
            }
            case "create":
            {
                var body = (JsonObject)(await JsonNode.ParseAsync(request.Body))!;
                var newName = body["metadata"]?["name"]?.GetValue<string>() ?? "";
                var target = $"{path}/{newName}";
                if (resource == "nodeprobes" && ValidateNodeProbe?.Invoke(body) is { } invalid) { await Fail(context, 422, "Invalid", $"NodeProbe.ops.pipeline.dev \"{newName}\" is invalid: {invalid}"); return; }
                JsonObject stored;
                lock (_objects)
                {
                    if (_objects.ContainsKey(target)) { stored = null!; }
                    else
                    {
                        if (ns is not null) body["metadata"]!["namespace"] = ns;
                        stored = Store(target, body, generation: true);
                    }
                }
                if (stored is null) await Fail(context, 409, "AlreadyExists", $"{resource} \"{newName}\" already exists");
                else await Json(context, 201, stored);
                return;
            }
            case "patch":
            {
                var patch = await JsonNode.ParseAsync(request.Body);
                bool strategic = request.ContentType?.StartsWith("application/strategic-merge-patch+json", StringComparison.Ordinal) == true;
                if (!strategic && request.ContentType?.StartsWith("application/merge-patch+json", StringComparison.Ordinal) != true)
                {
                    await Fail(context, 415, "UnsupportedMediaType", $"the body of the request was in an unknown format: {request.ContentType}");
                    return;
                }
                JsonObject? result = null;
                string? invalid = null;
                lock (_objects)
                {
                    if (_objects.TryGetValue(itemPath!, out var current))
                    {
                        var patched = (JsonObject)JsonMergePatch.Apply(current.DeepClone(), Scope(patch, sub), strategic)!;
                        if (resource == "nodeprobes" && sub is null) invalid = ValidateNodeProbe?.Invoke(patched);
                        if (invalid is null)
                        {
                            bool specChanged = sub is null && !JsonNode.DeepEquals(current["spec"], patched["spec"]);
                            result = Store(itemPath!, patched, generation: specChanged);
                        }
                    }
                }
                if (invalid is not null) await Fail(context, 422, "Invalid", invalid);
                else if (result is null) await NotFound(context, resource, name!);
                else await Json(context, 200, result);
                return;
            }
            default:
                await Fail(context, 405, "MethodNotAllowed", $"{request.Method} is not supported here");
                return;
        }
    }

    /// <summary>A PATCH of a subresource may only touch that part (a status PATCH cannot change the spec).</summary>
    private static JsonNode? Scope(JsonNode? patch, string? sub)
        => sub is null || patch is not JsonObject o ? patch : new JsonObject { [sub] = o[sub]?.DeepClone() };

    private JsonObject List(string collection, string resource)
    {
        var items = new JsonArray();
        lock (_objects)
        {
            foreach (var (path, item) in _objects.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (InCollection(path, collection, resource)) items.Add(item.DeepClone());
            }
            return new JsonObject
            {
                ["kind"] = "List",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject { ["resourceVersion"] = _resourceVersion.ToString(CultureInfo.InvariantCulture) },
                ["items"] = items,
            };
        }
    }

    /// <summary>A cluster-wide collection (<c>/apis/g/v/nodeprobes</c>) holds the items of every namespace.</summary>
    private static bool InCollection(string path, string collection, string resource)
    {
        if (path.StartsWith(collection + "/", StringComparison.Ordinal) && path.IndexOf('/', collection.Length + 1) < 0) return true;
        if (collection.Contains("/namespaces/", StringComparison.Ordinal)) return false;
        var prefix = collection[..collection.LastIndexOf('/')];
        return path.StartsWith(prefix + "/namespaces/", StringComparison.Ordinal) && path.Contains($"/{resource}/", StringComparison.Ordinal);
    }

    private async Task WatchAsync(HttpContext context, string collection, string resource)
    {
        var channel = Channel.CreateUnbounded<string>();
        lock (_objects)
        {
            foreach (var (path, item) in _objects.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (InCollection(path, collection, resource)) channel.Writer.TryWrite(Event("ADDED", item) + "\t" + path);
            }
            _watchers.Add(channel);
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        try
        {
            // Headers now, not with the first event: the client waits for them before it reads events.
            await context.Response.StartAsync(context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await foreach (var line in channel.Reader.ReadAllAsync(context.RequestAborted))
            {
                int tab = line.LastIndexOf('\t');
                if (!InCollection(line[(tab + 1)..], collection, resource)) continue;
                await context.Response.WriteAsync(line[..tab] + "\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (_objects) _watchers.Remove(channel);
        }
    }

    private static string Event(string type, JsonObject item) => new JsonObject { ["type"] = type, ["object"] = item.DeepClone() }.ToJsonString();

    private JsonObject Store(string path, JsonObject item, bool generation)
    {
        var meta = item["metadata"] as JsonObject ?? [];
        item["metadata"] = meta;
        bool created = !_objects.ContainsKey(path);
        meta["resourceVersion"] = (++_resourceVersion).ToString(CultureInfo.InvariantCulture);
        if (created)
        {
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            meta["generation"] = 1L;
        }
        else if (generation)
        {
            meta["generation"] = (meta["generation"]?.GetValue<long>() ?? 0) + 1;
        }
        _objects[path] = item;
        Notify(created ? "ADDED" : "MODIFIED", path, item);
        return (JsonObject)item.DeepClone();
    }

    private void Notify(string type, string path, JsonObject item)
    {
        var line = Event(type, item) + "\t" + path;
        foreach (var watcher in _watchers) watcher.Writer.TryWrite(line);
    }

    private static Task NotFound(HttpContext context, string resource, string name) => Fail(context, 404, "NotFound", $"{resource} \"{name}\" not found");

    private static Task Fail(HttpContext context, int code, string reason, string message)
        => Json(context, code, new JsonObject
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(),
            ["status"] = "Failure", ["message"] = message, ["reason"] = reason, ["code"] = code,
        });

    private static async Task Json(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_objects)
        {
            foreach (var watcher in _watchers) watcher.Writer.TryComplete();
        }
        if (_app is not null) await _app.DisposeAsync().ConfigureAwait(false);
    }
}
