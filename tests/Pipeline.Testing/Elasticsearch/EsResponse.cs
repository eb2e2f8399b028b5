using System.Buffers;
using System.Text.Json;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>An answer from one of the test server's APIs: a status and a JSON body (none for HEAD-style answers).</summary>
internal sealed record EsResponse(int Status, byte[]? Body, IReadOnlyDictionary<string, string>? Headers = null)
{
    public static EsResponse Json(int status, Action<Utf8JsonWriter> write) => new(status, Write(write));

    public static EsResponse Ok(Action<Utf8JsonWriter> write) => Json(200, write);

    public static readonly EsResponse Acknowledged = Ok(w =>
    {
        w.WriteStartObject();
        w.WriteBoolean("acknowledged", true);
        w.WriteEndObject();
    });

    public static EsResponse NoBody(int status) => new(status, null);

    /// <summary>Elasticsearch's error envelope: <c>{"error":{"root_cause":[...],"type","reason",...},"status":N}</c>.</summary>
    public static EsResponse Error(int status, EsError error, IReadOnlyDictionary<string, string>? headers = null) => new(status, Write(w =>
    {
        w.WriteStartObject();
        w.WritePropertyName("error");
        w.WriteStartObject();
        w.WritePropertyName("root_cause");
        w.WriteStartArray();
        error.WriteCause(w);
        w.WriteEndArray();
        error.WriteBody(w);
        w.WriteEndObject();
        w.WriteNumber("status", status);
        w.WriteEndObject();
    }), headers);

    public static EsResponse Error(int status, string type, string reason) => Error(status, new EsError(type, reason));

    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>An Elasticsearch error cause: type, reason, optional index details and a <c>caused_by</c>.</summary>
internal sealed record EsError(string Type, string Reason, string? Index = null, string? IndexUuid = null, EsError? CausedBy = null)
{
    public void WriteCause(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        WriteBody(w);
        w.WriteEndObject();
    }

    public void WriteBody(Utf8JsonWriter w)
    {
        w.WriteString("type", Type);
        w.WriteString("reason", Reason);
        if (Index is not null)
        {
            if (IndexUuid is not null)
            {
                w.WriteString("index_uuid", IndexUuid);
                w.WriteString("shard", "0");
            }
            w.WriteString("index", Index);
        }
        if (CausedBy is not null)
        {
            w.WritePropertyName("caused_by");
            CausedBy.WriteCause(w);
        }
    }

    public EsError On(string index, string? uuid) => this with { Index = index, IndexUuid = uuid };

    /// <summary>The error Elasticsearch sends with a transient status: 429 from a full write queue, 503 from unavailable shards.</summary>
    public static EsError ForTransientStatus(int status, string? index = null) => status switch
    {
        429 => new EsError("es_rejected_execution_exception",
            "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1024, max_coordinating_and_primary_bytes=104857600]"),
        503 => new EsError("unavailable_shards_exception",
            $"[{index ?? "index"}][0] primary shard is not active Timeout: [1m], request: [BulkShardRequest]"),
        504 => new EsError("timeout_exception", "Timed out waiting for the bulk shard request to complete"),
        >= 500 => new EsError("exception", $"injected failure with status {status}"),
        _ => new EsError("status_exception", $"injected failure with status {status}"),
    };
}
