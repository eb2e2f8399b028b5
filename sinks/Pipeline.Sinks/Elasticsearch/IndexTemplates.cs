using Pipeline.Plumbing.Config;
using Pipeline.Schemas.Topics;

namespace Pipeline.Sinks.Elasticsearch;

/// <summary>
/// What the Elasticsearch sink installs before its first write: one composable index template per pipeline dataset
/// and the ILM policy they share. One template covers every namespace (<c>logs-ops.logs-*</c>), the way Elastic's own
/// integrations do, so pipelines writing to different namespaces install the same bodies and never fight.
/// Priority 200 puts them above the built-in <c>logs-*-*</c> and <c>metrics-*-*</c> templates (priority 100).
/// </summary>
public static class IndexTemplates
{
    /// <summary>ILM policy every pipeline data stream uses.</summary>
    public const string LifecyclePolicyName = "pipeline-default";

    /// <summary>Template priority; above the built-in stack templates (100).</summary>
    public const int Priority = 200;

    /// <summary>Bumped whenever a body below changes, so <c>GET _index_template</c> shows which one is installed.</summary>
    public const int Version = 2;

    private const string Keyword = """{ "type": "keyword", "ignore_above": 1024 }""";
    private const string Long = """{ "type": "long" }""";
    private const string Double = """{ "type": "double" }""";
    private const string Date = """{ "type": "date" }""";
    private const string Text = """{ "type": "text" }""";

    /// <summary>Template name for a topic's data streams, e.g. <c>pipeline-ops.logs</c>.</summary>
    public static string TemplateName(TopicSpec spec) => $"pipeline-{spec.Dataset}";

    /// <summary>The index pattern the template claims, e.g. <c>logs-ops.logs-*</c>: every namespace of the data stream.</summary>
    public static string IndexPattern(TopicSpec spec) => $"{spec.StreamType}-{spec.Dataset}-*";

    /// <summary>
    /// The ILM policy: roll the write index over after <c>elasticsearch.ilm_rollover_after</c> (default 1d) or at 50 GB per
    /// primary shard, and delete a backing index <c>elasticsearch.ilm_delete_after</c> (default 30d) after its rollover.
    /// </summary>
    public static string LifecyclePolicy(ElasticsearchConfig config) => $$"""
        {
          "policy": {
            "_meta": { "managed_by": "pipeline" },
            "phases": {
              "hot": {
                "min_age": "0ms",
                "actions": { "rollover": { "max_age": "{{EsTime(config.IlmRolloverAfter)}}", "max_primary_shard_size": "50gb" } }
              },
              "delete": {
                "min_age": "{{EsTime(config.IlmDeleteAfter)}}",
                "actions": { "delete": {} }
              }
            }
          }
        }
        """;

    // Elasticsearch time units are a subset of ours (d, h, m, s, ms) but take one number and unit: "1h30m" becomes "90m".
    private static string EsTime(string duration) => Duration.Format(Duration.Parse(duration));

    /// <summary>The template body for one topic's data streams.</summary>
    public static string For(TopicSpec spec) => $$"""
        {
          "index_patterns": ["{{IndexPattern(spec)}}"],
          "data_stream": {},
          "priority": {{Priority}},
          "version": {{Version}},
          "_meta": { "managed_by": "pipeline", "topic": "{{spec.Name}}" },
          "template": {
            "settings": {
              "index.lifecycle.name": "{{LifecyclePolicyName}}",
              "index.mapping.total_fields.ignore_dynamic_beyond_limit": true
            },
            "mappings": {
              "date_detection": false,
              "dynamic_templates": [
                { "labels_as_keyword": { "path_match": "labels.*", "match_mapping_type": "string", "mapping": {{Keyword}} } },
                { "alert_group_as_keyword": { "path_match": "alert.group.*", "match_mapping_type": "string", "mapping": {{Keyword}} } },
                { "strings_as_keyword": { "match_mapping_type": "string", "mapping": {{Keyword}} } }
              ],
              "properties": {
                {{Properties(spec)}}
              }
            }
          }
        }
        """;

    /// <summary>ECS fields every event carries, then the topic's own.</summary>
    private static string Properties(TopicSpec spec)
    {
        const string common = $$"""
            "@timestamp": {{Date}},
            "event": { "properties": { "kind": {{Keyword}}, "dataset": {{Keyword}}, "id": {{Keyword}}, "action": {{Keyword}}, "severity": {{Long}} } },
            "host": { "properties": { "name": {{Keyword}} } },
            "tags": {{Keyword}},
            "labels": { "type": "object" }
            """;
        var own = spec.Dataset switch
        {
            "ops.logs" => $$"""
                "message": {{Text}},
                "log": { "properties": {
                  "file": { "properties": { "path": {{Keyword}} } },
                  "offset": {{Long}}, "level": {{Keyword}}, "flags": {{Keyword}} } }
                """,
            "ops.process" => $$"""
                "message": {{Text}},
                "process": { "properties": {
                  "pid": {{Long}}, "parent": { "properties": { "pid": {{Long}} } },
                  "name": {{Keyword}}, "executable": {{Keyword}}, "command_line": {{Keyword}}, "args": {{Keyword}}, "state": {{Keyword}},
                  "start": {{Date}}, "end": {{Date}}, "nice": {{Long}}, "fd_count": {{Long}},
                  "thread": { "properties": { "count": {{Long}} } },
                  "cpu": { "properties": { "pct": {{Double}}, "total_pct": {{Double}} } },
                  "memory": { "properties": { "rss": {{Long}}, "vsz": {{Long}}, "pct": {{Double}} } },
                  "io": { "properties": { "read_bytes": {{Long}}, "write_bytes": {{Long}} } } } },
                "user": { "properties": { "name": {{Keyword}}, "id": {{Keyword}} } },
                "container": { "properties": { "id": {{Keyword}}, "runtime": {{Keyword}} } },
                "orchestrator": { "properties": { "type": {{Keyword}}, "resource": { "properties": { "type": {{Keyword}}, "id": {{Keyword}} } } } }
                """,
            "ops.probes" => $$"""
                "message": {{Text}},
                "probe": { "properties": {
                  "name": {{Keyword}}, "type": {{Keyword}}, "target": {{Keyword}}, "status": {{Keyword}}, "condition": {{Keyword}},
                  "reason": {{Keyword}}, "condition_status": {{Keyword}},
                  "duration_ms": {{Double}}, "value": {{Double}} } }
                """,
            "ops.alerts" => $$"""
                "message": {{Text}},
                "alert": { "properties": {
                  "name": {{Keyword}}, "status": {{Keyword}}, "severity": {{Keyword}}, "fingerprint": {{Keyword}},
                  "value": {{Double}}, "threshold": {{Double}}, "op": {{Keyword}}, "window": {{Keyword}}, "source": {{Keyword}},
                  "group": { "type": "object" }, "started_at": {{Date}} } }
                """,
            "ops.deadletter" => $$"""
                "error": { "properties": { "type": {{Keyword}}, "message": {{Text}} } },
                "deadletter": { "properties": {
                  "stage": {{Keyword}}, "reason": {{Keyword}},
                  "source": { "properties": { "topic": {{Keyword}}, "partition": {{Long}}, "offset": {{Long}} } },
                  "original": { "type": "binary" } } }
                """,
            _ => $$"""
                "message": {{Text}}
                """,
        };
        return common + ",\n" + own;
    }
}
