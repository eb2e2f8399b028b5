using System.Text.Json;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>A stored composable index template.</summary>
internal sealed record IndexTemplate(string Name, JsonElement Body, IReadOnlyList<string> Patterns, long Priority, bool IsDataStream);

/// <summary>A stored ILM policy.</summary>
internal sealed record LifecyclePolicy(string Name, JsonElement Policy, long Version, DateTimeOffset ModifiedAt);

/// <summary>
/// Everything the test server knows: templates, ILM policies, and the indices and data streams with their documents.
/// One lock guards it all; every API takes it for the whole of one request, so a bulk request is applied atomically.
/// </summary>
internal sealed class ClusterState
{
    private readonly Dictionary<string, IndexTemplate> _templates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LifecyclePolicy> _policies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TargetIndex> _targets = new(StringComparer.Ordinal);

    public Lock Gate { get; } = new();

    public IEnumerable<IndexTemplate> Templates => _templates.Values;

    public IEnumerable<TargetIndex> Targets => _targets.Values;

    public IReadOnlyDictionary<string, LifecyclePolicy> Policies => _policies;

    /// <summary>The built-in templates a fresh Elasticsearch 9 has for <c>logs-*-*</c> and <c>metrics-*-*</c> (priority 100, data streams).</summary>
    public void InstallBuiltInTemplates()
    {
        foreach (var type in new[] { "logs", "metrics" })
        {
            var body = JsonDocument.Parse($$"""
                {
                  "index_patterns": ["{{type}}-*-*"],
                  "priority": 100,
                  "data_stream": {},
                  "composed_of": [],
                  "_meta": { "description": "default {{type}} template installed by x-pack", "managed": true },
                  "template": {
                    "mappings": {
                      "date_detection": false,
                      "dynamic_templates": [
                        { "ecs_strings_as_keyword": { "match_mapping_type": "string", "mapping": { "type": "keyword", "ignore_above": 1024 } } }
                      ],
                      "properties": { "@timestamp": { "type": "date" }, "message": { "type": "match_only_text" } }
                    }
                  }
                }
                """).RootElement.Clone();
            _templates[type] = ToTemplate(type, body);
        }
    }

    public static IndexTemplate ToTemplate(string name, JsonElement body)
    {
        var patterns = body.GetProperty("index_patterns");
        IReadOnlyList<string> list = patterns.ValueKind == JsonValueKind.Array
            ? [.. patterns.EnumerateArray().Select(p => p.GetString() ?? "")]
            : [.. (patterns.GetString() ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
        var priority = body.TryGetProperty("priority", out var p) && p.TryGetInt64(out var value) ? value : 0;
        return new IndexTemplate(name, body, list, priority, body.TryGetProperty("data_stream", out var ds) && ds.ValueKind == JsonValueKind.Object);
    }

    public IndexTemplate? Template(string name) => _templates.GetValueOrDefault(name);

    /// <summary>Stores a template unless another one with the same priority overlaps it, which Elasticsearch refuses.</summary>
    public EsError? PutTemplate(IndexTemplate template, bool createOnly)
    {
        if (createOnly && _templates.ContainsKey(template.Name))
        {
            return new EsError("illegal_argument_exception", $"index template [{template.Name}] already exists");
        }
        foreach (var other in _templates.Values)
        {
            if (other.Name == template.Name || other.Priority != template.Priority) continue;
            var overlap = other.Patterns.Where(o => template.Patterns.Any(t => JsonPaths.PatternsOverlap(o, t))).ToList();
            if (overlap.Count > 0)
            {
                return new EsError("illegal_argument_exception",
                    $"index template [{template.Name}] has index patterns [{string.Join(", ", template.Patterns)}] matching patterns from existing templates " +
                    $"[{other.Name}] with patterns ({other.Name} => [{string.Join(", ", other.Patterns)}]) that have the same priority [{template.Priority}], " +
                    "multiple index templates may not match during index creation, please use a different priority");
            }
        }
        _templates[template.Name] = template;
        return null;
    }

    public bool DeleteTemplate(string name) => _templates.Remove(name);

    public void PutPolicy(string name, JsonElement policy)
    {
        var version = _policies.TryGetValue(name, out var existing) ? existing.Version + 1 : 1;
        _policies[name] = new LifecyclePolicy(name, policy, version, DateTimeOffset.UtcNow);
    }

    /// <summary>The template Elasticsearch would apply to a new index of this name: the highest priority match.</summary>
    public IndexTemplate? MatchTemplate(string name) =>
        _templates.Values
            .Where(t => t.Patterns.Any(p => JsonPaths.WildcardMatch(p, name)))
            .OrderByDescending(t => t.Priority)
            .FirstOrDefault();

    public TargetIndex? Target(string name) =>
        _targets.TryGetValue(name, out var target) ? target : _targets.Values.FirstOrDefault(t => t.ConcreteIndex == name);

    /// <summary>The index or data stream a write to <paramref name="name"/> lands in, auto-created from the matching template like Elasticsearch does.</summary>
    public TargetIndex GetOrCreate(string name)
    {
        var existing = Target(name);
        if (existing is not null) return existing;
        var template = MatchTemplate(name);
        JsonElement? mappings = null;
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (template is not null && template.Body.TryGetProperty("template", out var body))
        {
            if (body.TryGetProperty("mappings", out var m)) mappings = m;
            if (body.TryGetProperty("settings", out var s)) FlattenSettings(s, "", settings);
        }
        var isDataStream = template?.IsDataStream ?? false;
        var created = new TargetIndex(name, isDataStream, template?.Name, FieldMappings.Create(mappings, settings, isDataStream), DateTimeOffset.UtcNow);
        _targets[name] = created;
        return created;
    }

    /// <summary>Settings as Elasticsearch normalises them: dotted keys under <c>index.</c>, values as strings.</summary>
    public static void FlattenSettings(JsonElement element, string prefix, Dictionary<string, string> into)
    {
        foreach (var property in element.EnumerateObject())
        {
            var key = prefix + property.Name;
            if (property.Value.ValueKind == JsonValueKind.Object)
            {
                FlattenSettings(property.Value, key + ".", into);
                continue;
            }
            if (prefix.Length == 0 && !key.StartsWith("index.", StringComparison.Ordinal)) key = "index." + key;
            into[key] = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString() ?? "",
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => property.Value.GetRawText(),
            };
        }
    }

    /// <summary>
    /// The indices a search expression names (comma-separated names and wildcards). A concrete name that does not exist
    /// is reported in <paramref name="missing"/>, as Elasticsearch answers 404 for it.
    /// </summary>
    public List<TargetIndex> Resolve(string? expression, out string? missing)
    {
        missing = null;
        if (string.IsNullOrEmpty(expression) || expression is "_all" or "*") return [.. _targets.Values];
        var found = new List<TargetIndex>();
        foreach (var part in expression.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.Contains('*'))
            {
                found.AddRange(_targets.Values.Where(t => t.Matches(part) && !found.Contains(t)));
                continue;
            }
            var target = Target(part);
            if (target is null)
            {
                missing ??= part;
                continue;
            }
            if (!found.Contains(target)) found.Add(target);
        }
        return found;
    }
}
