using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>
/// <c>POST /_bulk</c> and <c>POST /{target}/_bulk</c>: NDJSON action/source pairs in, one result per action out, with
/// the per-item statuses and error types real Elasticsearch uses.
/// </summary>
internal static class BulkApi
{
    private static readonly HashSet<string> ActionParameters =
    [
        "_index", "_id", "routing", "pipeline", "require_alias", "require_data_stream", "if_seq_no", "if_primary_term",
        "version", "version_type", "dynamic_templates", "op_type", "list_executed_pipelines", "_source", "retry_on_conflict",
    ];

    private static readonly JsonDocumentOptions SourceOptions = new() { AllowDuplicateProperties = false };

    private sealed record Operation(int Line, string Action, string? Index, string? Id, bool RequireDataStream, ReadOnlyMemory<byte>? Source);

    private readonly record struct ItemResult(string Action, string Index, string Id, int Status, string? Result = null, long Version = 0, long SeqNo = 0, EsError? Error = null);

    public static EsResponse Handle(ClusterState state, FaultPlan faults, string? pathTarget, byte[] body, Action<int> countItems)
    {
        var started = Stopwatch.GetTimestamp();
        var parsed = ParseOperations(body, out var operations);
        if (parsed is not null) return EsResponse.Error(400, parsed);
        countItems(operations.Count);

        var results = new List<ItemResult>(operations.Count);
        var invalidFields = faults.InvalidFields();
        lock (state.Gate)
        {
            foreach (var operation in operations) results.Add(Apply(state, faults, invalidFields, pathTarget, operation));
        }

        var took = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return EsResponse.Ok(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("errors", results.Any(r => r.Error is not null));
            w.WriteNumber("took", took);
            w.WritePropertyName("items");
            w.WriteStartArray();
            foreach (var item in results) WriteItem(w, item);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// The single-document APIs, <c>PUT|POST /{index}/_doc/{id}</c>, <c>POST /{index}/_doc</c> and <c>PUT|POST /{index}/_create/{id}</c>:
    /// the same semantics as one bulk item, answered without the bulk envelope.
    /// </summary>
    public static EsResponse Single(ClusterState state, FaultPlan faults, string action, string index, string? id, byte[] body, IQueryCollection query)
    {
        if (action == "index" && query["op_type"] == "create") action = "create";
        var operation = new Operation(1, action, index, id, query["require_data_stream"] == "true", body.AsMemory());
        ItemResult result;
        lock (state.Gate)
        {
            result = Apply(state, faults, faults.InvalidFields(), null, operation);
        }
        if (result.Error is not null) return EsResponse.Error(result.Status, result.Error);
        return EsResponse.Json(result.Status, w =>
        {
            w.WriteStartObject();
            WriteItemFields(w, result);
            w.WriteEndObject();
        });
    }

    /// <summary><c>GET /{index}/_doc/{id}</c>.</summary>
    public static EsResponse Get(ClusterState state, string index, string id)
    {
        StoredDocument? doc;
        lock (state.Gate)
        {
            var target = state.Target(index);
            if (target is null) return EsResponse.Error(404, new EsError("index_not_found_exception", $"no such index [{index}]", index));
            doc = target.Find(id);
        }
        return EsResponse.Json(doc is null ? 404 : 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("_index", doc?.Index ?? index);
            w.WriteString("_id", id);
            if (doc is not null)
            {
                w.WriteNumber("_version", doc.Version);
                w.WriteNumber("_seq_no", 0);
                w.WriteNumber("_primary_term", 1);
            }
            w.WriteBoolean("found", doc is not null);
            if (doc is not null)
            {
                w.WritePropertyName("_source");
                w.WriteRawValue(doc.RawSource.Span, skipInputValidation: true);
            }
            w.WriteEndObject();
        });
    }

    private static EsError? ParseOperations(byte[] body, out List<Operation> operations)
    {
        operations = [];
        if (body.Length == 0) return new EsError("action_request_validation_exception", "Validation Failed: 1: no requests added;");
        if (body[^1] != (byte)'\n') return new EsError("illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]");

        var lines = new List<ReadOnlyMemory<byte>>();
        var start = 0;
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] != (byte)'\n') continue;
            var line = body.AsMemory(start, i - start);
            if (line.Length > 0 && line.Span[^1] == (byte)'\r') line = line[..^1];
            lines.Add(line);
            start = i + 1;
        }

        for (var n = 0; n < lines.Count; n++)
        {
            var line = lines[n];
            if (line.Span.Trim(" \t"u8).IsEmpty) continue;
            var lineNumber = n + 1;
            JsonElement action;
            try
            {
                using var doc = JsonDocument.Parse(line);
                action = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                return new EsError("x_content_parse_exception", $"[{lineNumber}:1] Malformed action/metadata line [{lineNumber}]: {e.Message}");
            }
            if (action.ValueKind != JsonValueKind.Object || action.EnumerateObject().Count() != 1)
            {
                return new EsError("illegal_argument_exception", $"Malformed action/metadata line [{lineNumber}], expected START_OBJECT or END_OBJECT but found [{action.ValueKind}]");
            }
            var property = action.EnumerateObject().First();
            var verb = property.Name;
            if (verb is not ("index" or "create" or "update" or "delete"))
            {
                return new EsError("illegal_argument_exception", $"Malformed action/metadata line [{lineNumber}], expected one of [create, delete, index, update] but found [{verb}]");
            }
            if (property.Value.ValueKind != JsonValueKind.Object)
            {
                return new EsError("illegal_argument_exception", $"Malformed action/metadata line [{lineNumber}], expected START_OBJECT but found [{property.Value.ValueKind}]");
            }
            string? index = null, id = null;
            var requireDataStream = false;
            var opType = verb;
            foreach (var parameter in property.Value.EnumerateObject())
            {
                if (!ActionParameters.Contains(parameter.Name))
                {
                    return new EsError("illegal_argument_exception", $"Action/metadata line [{lineNumber}] contains an unknown parameter [{parameter.Name}]");
                }
                switch (parameter.Name)
                {
                    case "_index": index = parameter.Value.GetString(); break;
                    case "_id": id = parameter.Value.ValueKind == JsonValueKind.String ? parameter.Value.GetString() : parameter.Value.GetRawText(); break;
                    case "require_data_stream": requireDataStream = parameter.Value.ValueKind == JsonValueKind.True; break;
                    case "op_type" when verb == "index": opType = parameter.Value.GetString() == "create" ? "create" : "index"; break;
                }
            }
            ReadOnlyMemory<byte>? source = null;
            if (verb != "delete")
            {
                n++;
                if (n >= lines.Count) return new EsError("action_request_validation_exception", "Validation Failed: 1: source is missing;");
                source = lines[n];
            }
            operations.Add(new Operation(lineNumber, verb == "index" ? opType : verb, index, id, requireDataStream, source));
        }
        if (operations.Count == 0) return new EsError("action_request_validation_exception", "Validation Failed: 1: no requests added;");
        return null;
    }

    private static ItemResult Apply(ClusterState state, FaultPlan faults, KeyValuePair<string, string>[] invalidFields, string? pathTarget, Operation op)
    {
        // An "index" action with op_type=create is a create, and answers under "create", as in Elasticsearch.
        var responseAction = op.Action;
        var indexName = op.Index ?? pathTarget;
        var id = op.Id ?? NewId();
        if (indexName is null)
        {
            return new ItemResult(responseAction, "", id, 400, Error: new EsError("action_request_validation_exception", "Validation Failed: 1: index is missing;"));
        }
        if (faults.TakeItemRejection(out var rejectStatus))
        {
            return new ItemResult(responseAction, indexName, id, rejectStatus, Error: EsError.ForTransientStatus(rejectStatus, indexName));
        }
        var nameProblem = IndexNameProblem(indexName);
        if (nameProblem is not null)
        {
            return new ItemResult(responseAction, indexName, id, 400, Error: new EsError("invalid_index_name_exception", $"Invalid index name [{indexName}], {nameProblem}", indexName));
        }
        if (op.Id is not null && (op.Id.Length == 0 || Encoding.UTF8.GetByteCount(op.Id) > 512))
        {
            var reason = op.Id.Length == 0
                ? "Validation Failed: 1: if _id is specified it must not be empty;"
                : $"Validation Failed: 1: id [{op.Id}] is too long, must be no longer than 512 bytes but was: {Encoding.UTF8.GetByteCount(op.Id)};";
            return new ItemResult(responseAction, indexName, id, 400, Error: new EsError("action_request_validation_exception", reason));
        }
        if (op.Action == "update")
        {
            return new ItemResult(responseAction, indexName, id, 400, Error: new EsError("illegal_argument_exception", "the Elasticsearch test server does not implement [update] bulk actions"));
        }

        var existing = state.Target(indexName);
        if (op.RequireDataStream && (existing is null ? state.MatchTemplate(indexName)?.IsDataStream != true : !existing.IsDataStream))
        {
            return new ItemResult(responseAction, indexName, id, 404, Error: new EsError("index_not_found_exception",
                $"no such index [{indexName}] and [require_data_stream] request flag is [true] and [{indexName}] is not a data stream", indexName));
        }
        if (op.Action == "delete")
        {
            if (existing is null) return new ItemResult(responseAction, indexName, id, 404, "not_found", 1);
            var (found, deletedSeqNo, version) = existing.Delete(id);
            return new ItemResult(responseAction, existing.ConcreteIndex, id, found ? 200 : 404, found ? "deleted" : "not_found", version, deletedSeqNo);
        }

        var target = existing ?? state.GetOrCreate(indexName);
        if (target.IsDataStream && op.Action != "create")
        {
            return new ItemResult(responseAction, target.Name, id, 400, Error: new EsError("illegal_argument_exception",
                $"only write ops with an op_type of create are allowed in data streams"));
        }

        JsonElement source;
        try
        {
            using var doc = JsonDocument.Parse(op.Source!.Value, SourceOptions);
            source = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            return Failed(target, responseAction, id, 400, new EsError("document_parsing_exception", $"[{op.Line + 1}:1] failed to parse",
                CausedBy: new EsError("x_content_parse_exception", $"[{op.Line + 1}:1] {e.Message}")));
        }
        if (source.ValueKind != JsonValueKind.Object)
        {
            return Failed(target, responseAction, id, 400, new EsError("document_parsing_exception",
                $"[{op.Line + 1}:1] failed to parse, document is empty or malformed: expected START_OBJECT but found [{source.ValueKind}]"));
        }
        foreach (var (field, errorType) in invalidFields)
        {
            if (JsonPaths.Resolve(source, field).Count == 0) continue;
            var value = JsonPaths.Preview(JsonPaths.Resolve(source, field)[0]);
            return Failed(target, responseAction, id, 400, new EsError(errorType,
                $"[1:2] failed to parse field [{field}] of type [long] in document with id '{id}'. Preview of field's value: '{value}'",
                CausedBy: new EsError("illegal_argument_exception", $"For input string: \"{value}\"")));
        }
        if (target.IsDataStream && JsonPaths.Resolve(source, "@timestamp").Count == 0)
        {
            return Failed(target, responseAction, id, 400, new EsError("document_parsing_exception",
                "[1:2] failed to parse: data stream timestamp field [@timestamp] is missing",
                CausedBy: new EsError("illegal_argument_exception", "data stream timestamp field [@timestamp] is missing")));
        }
        var mappingError = target.Mappings.Check(source, id, out var newFields);
        if (mappingError is not null) return Failed(target, responseAction, id, 400, mappingError);

        var current = target.Find(id);
        if (current is not null && op.Action == "create")
        {
            return Failed(target, responseAction, id, 409, new EsError("version_conflict_engine_exception",
                $"[{id}]: version conflict, document already exists (current version [{current.Version}])"));
        }
        target.Mappings.Apply(newFields);
        var (stored, seqNo) = target.Put(id, source, op.Source!.Value.ToArray());
        return new ItemResult(responseAction, target.ConcreteIndex, id, current is null ? 201 : 200, current is null ? "created" : "updated", stored.Version, seqNo);
    }

    private static ItemResult Failed(TargetIndex target, string action, string id, int status, EsError error) =>
        new(action, target.ConcreteIndex, id, status, Error: error.On(target.ConcreteIndex, target.Uuid));

    private static void WriteItem(Utf8JsonWriter w, ItemResult item)
    {
        w.WriteStartObject();
        w.WritePropertyName(item.Action);
        w.WriteStartObject();
        WriteItemFields(w, item);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteItemFields(Utf8JsonWriter w, ItemResult item)
    {
        w.WriteString("_index", item.Index);
        w.WriteString("_id", item.Id);
        if (item.Error is null)
        {
            w.WriteNumber("_version", item.Version);
            w.WriteString("result", item.Result);
            w.WritePropertyName("_shards");
            w.WriteStartObject();
            w.WriteNumber("total", 2);
            w.WriteNumber("successful", 1);
            w.WriteNumber("failed", 0);
            w.WriteEndObject();
            w.WriteNumber("_seq_no", item.SeqNo);
            w.WriteNumber("_primary_term", 1);
            w.WriteNumber("status", item.Status);
        }
        else
        {
            w.WriteNumber("status", item.Status);
            w.WritePropertyName("error");
            item.Error.WriteCause(w);
        }
    }

    /// <summary>Elasticsearch's index name rules; null when the name is fine.</summary>
    public static string? IndexNameProblem(string name)
    {
        if (name.Length == 0) return "must not be empty";
        if (!name.Equals(name.ToLowerInvariant(), StringComparison.Ordinal)) return "must be lowercase";
        if (name is "." or "..") return "must not be '.' or '..'";
        if (name[0] is '_' or '-' or '+') return "must not start with '_', '-', or '+'";
        if (name.IndexOfAny(['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':']) >= 0)
        {
            return "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?, #, :]";
        }
        if (Encoding.UTF8.GetByteCount(name) > 255) return "index name is too long";
        return null;
    }

    private static string NewId()
    {
        Span<byte> bytes = stackalloc byte[15];
        Random.Shared.NextBytes(bytes);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }
}
