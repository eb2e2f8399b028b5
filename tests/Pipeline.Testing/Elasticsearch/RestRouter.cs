using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>Maps a method and path to one of the test server's APIs, and answers unknown ones as Elasticsearch does.</summary>
internal sealed class RestRouter(ClusterState state, FaultPlan faults, Action<int> countBulkItems)
{
    public const string Version = "9.1.0";

    private readonly string _clusterUuid = Guid.NewGuid().ToString("N")[..22];

    public static bool IsBulk(string[] segments) => segments is ["_bulk"] or [_, "_bulk"];

    public EsResponse Dispatch(string method, string path, string[] segments, IQueryCollection query, byte[] body)
    {
        var get = method is "GET" or "HEAD";
        var write = method is "POST" or "PUT";
        var read = method is "GET" or "POST";
        switch (segments)
        {
            case []:
                return get ? Info(method == "HEAD") : WrongMethod(method, path, "GET, HEAD");
            case ["_cluster", "health"]:
                return get ? Health() : WrongMethod(method, path, "GET");
            case ["_bulk"]:
                return write ? BulkApi.Handle(state, faults, null, body, countBulkItems) : WrongMethod(method, path, "POST, PUT");
            case [var target, "_bulk"]:
                return write ? BulkApi.Handle(state, faults, target, body, countBulkItems) : WrongMethod(method, path, "POST, PUT");
            case ["_index_template"]:
                return get ? TemplateApi.GetIndexTemplates(state, null, method == "HEAD") : WrongMethod(method, path, "GET");
            case ["_index_template", var name]:
                return method switch
                {
                    "PUT" or "POST" => TemplateApi.PutIndexTemplate(state, name, query, body),
                    "GET" or "HEAD" => TemplateApi.GetIndexTemplates(state, name, method == "HEAD"),
                    "DELETE" => TemplateApi.DeleteIndexTemplate(state, name),
                    _ => WrongMethod(method, path, "DELETE, GET, HEAD, POST, PUT"),
                };
            case ["_ilm", "policy"]:
                return method == "GET" ? TemplateApi.GetLifecyclePolicies(state, null) : WrongMethod(method, path, "GET");
            case ["_ilm", "policy", var name]:
                return method switch
                {
                    "PUT" => TemplateApi.PutLifecyclePolicy(state, name, body),
                    "GET" => TemplateApi.GetLifecyclePolicies(state, name),
                    _ => WrongMethod(method, path, "GET, PUT"),
                };
            case ["_search"]:
                return read ? SearchApi.Search(state, null, query, body) : WrongMethod(method, path, "GET, POST");
            case [var target, "_search"]:
                return read ? SearchApi.Search(state, target, query, body) : WrongMethod(method, path, "GET, POST");
            case ["_count"]:
                return read ? SearchApi.Count(state, null, query, body) : WrongMethod(method, path, "GET, POST");
            case [var target, "_count"]:
                return read ? SearchApi.Count(state, target, query, body) : WrongMethod(method, path, "GET, POST");
            case [var index, "_doc"]:
                return method == "POST" ? BulkApi.Single(state, faults, "index", index, null, body, query) : WrongMethod(method, path, "POST");
            case [var index, "_doc", var id]:
                return method switch
                {
                    "PUT" or "POST" => BulkApi.Single(state, faults, "index", index, id, body, query),
                    "GET" => BulkApi.Get(state, index, id),
                    _ => WrongMethod(method, path, "GET, POST, PUT"),
                };
            case [var index, "_create", var id]:
                return write ? BulkApi.Single(state, faults, "create", index, id, body, query) : WrongMethod(method, path, "POST, PUT");
            case ["_refresh"]:
                return read ? Refresh(null) : WrongMethod(method, path, "GET, POST");
            case [var target, "_refresh"]:
                return read ? Refresh(target) : WrongMethod(method, path, "GET, POST");
            default:
                return new EsResponse(400, EsResponse.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("error", $"no handler found for uri [{path}] and method [{method}]");
                    w.WriteNumber("status", 400);
                    w.WriteEndObject();
                }));
        }
    }

    private EsResponse Info(bool headOnly) => headOnly ? EsResponse.NoBody(200) : EsResponse.Ok(w =>
    {
        w.WriteStartObject();
        w.WriteString("name", "pipeline-test-node");
        w.WriteString("cluster_name", "pipeline-test");
        w.WriteString("cluster_uuid", _clusterUuid);
        w.WritePropertyName("version");
        w.WriteStartObject();
        w.WriteString("number", Version);
        w.WriteString("build_flavor", "default");
        w.WriteString("build_type", "docker");
        w.WriteString("build_hash", "cfe4f0dc5e4bfed5c7d3a9e8e2a4dd04d0a0f2f1");
        w.WriteString("build_date", "2025-07-17T22:57:04.149893452Z");
        w.WriteBoolean("build_snapshot", false);
        w.WriteString("lucene_version", "10.2.2");
        w.WriteString("minimum_wire_compatibility_version", "8.19.0");
        w.WriteString("minimum_index_compatibility_version", "8.0.0");
        w.WriteEndObject();
        w.WriteString("tagline", "You Know, for Search");
        w.WriteEndObject();
    });

    private static EsResponse Health() => EsResponse.Ok(w =>
    {
        w.WriteStartObject();
        w.WriteString("cluster_name", "pipeline-test");
        w.WriteString("status", "green");
        w.WriteBoolean("timed_out", false);
        w.WriteNumber("number_of_nodes", 1);
        w.WriteNumber("number_of_data_nodes", 1);
        w.WriteNumber("active_primary_shards", 1);
        w.WriteNumber("active_shards", 1);
        w.WriteNumber("relocating_shards", 0);
        w.WriteNumber("initializing_shards", 0);
        w.WriteNumber("unassigned_shards", 0);
        w.WriteNumber("unassigned_primary_shards", 0);
        w.WriteNumber("delayed_unassigned_shards", 0);
        w.WriteNumber("number_of_pending_tasks", 0);
        w.WriteNumber("number_of_in_flight_fetch", 0);
        w.WriteNumber("task_max_waiting_in_queue_millis", 0);
        w.WriteNumber("active_shards_percent_as_number", 100.0);
        w.WriteEndObject();
    });

    private EsResponse Refresh(string? target)
    {
        int count;
        lock (state.Gate)
        {
            var targets = state.Resolve(target, out var missing);
            if (missing is not null) return EsResponse.Error(404, new EsError("index_not_found_exception", $"no such index [{missing}]", missing));
            count = targets.Count;
        }
        return EsResponse.Ok(w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("_shards");
            w.WriteStartObject();
            w.WriteNumber("total", count * 2);
            w.WriteNumber("successful", count);
            w.WriteNumber("failed", 0);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private static EsResponse WrongMethod(string method, string path, string allowed) => new(405, EsResponse.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("error", $"Incorrect HTTP method for uri [{path}] and method [{method}], allowed: [{allowed}]");
        w.WriteNumber("status", 405);
        w.WriteEndObject();
    }), new Dictionary<string, string> { ["Allow"] = allowed });

    /// <summary>
    /// Elasticsearch's REST compatibility check: a versioned media type (<c>compatible-with=N</c>) on Content-Type or
    /// Accept must name 8 or 9, and when a request has a body and either header is versioned, both must name the same version.
    /// </summary>
    public static EsError? CheckMediaTypes(string? contentType, string? accept, bool hasBody)
    {
        if (hasBody)
        {
            if (string.IsNullOrEmpty(contentType)) return new EsError("media_type_header_exception", "Invalid media-type value on headers [Content-Type]");
            var mediaType = contentType.Split(';')[0].Trim().ToLowerInvariant();
            if (mediaType is not ("application/json" or "application/x-ndjson" or "application/vnd.elasticsearch+json" or "application/vnd.elasticsearch+x-ndjson"
                or "application/smile" or "application/cbor" or "application/yaml"))
            {
                return new EsError("media_type_header_exception", $"Content-Type header [{contentType}] is not supported");
            }
        }
        var contentVersion = CompatibleWith(contentType);
        var acceptVersion = CompatibleWith(accept);
        foreach (var version in new[] { contentVersion, acceptVersion })
        {
            if (version is not null && version is not ("8" or "9"))
            {
                return new EsError("media_type_header_exception", $"Content-Type version must be either version 8 or 9, but found {version}. Content-Type={contentType}");
            }
        }
        var acceptGiven = !string.IsNullOrEmpty(accept) && accept != "*/*";
        if (hasBody && acceptGiven && (contentVersion is not null || acceptVersion is not null) && contentVersion != acceptVersion)
        {
            return new EsError("media_type_header_exception",
                "A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version " +
                $"and the compatible versions must match. Accept={accept}, Content-Type={contentType}");
        }
        return null;
    }

    private static string? CompatibleWith(string? header)
    {
        if (string.IsNullOrEmpty(header)) return null;
        var at = header.IndexOf("compatible-with=", StringComparison.OrdinalIgnoreCase);
        if (at < 0) return null;
        var rest = header[(at + "compatible-with=".Length)..];
        var end = rest.IndexOfAny([';', ',', ' ']);
        return end < 0 ? rest : rest[..end];
    }
}
