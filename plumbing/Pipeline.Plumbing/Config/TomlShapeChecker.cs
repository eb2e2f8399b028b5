using System.Collections;
using System.Reflection;
using System.Text.Json;
using Tomlyn.Syntax;

namespace Pipeline.Plumbing.Config;

/// <summary>
/// Walks the TOML syntax tree against the config types before binding. Tomlyn's serializer silently
/// ignores keys it does not know; a typo in a production config must instead fail with its line,
/// column and the nearest valid key. It also records where every value sits, so later checks
/// (durations, expressions) can point at the exact place.
/// </summary>
internal sealed class TomlShapeChecker(string file)
{
    private readonly List<ConfigError> _errors = [];
    private readonly Dictionary<string, ConfigLocation> _locations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _tableArrayCounts = new(StringComparer.Ordinal);

    public IReadOnlyList<ConfigError> Errors => _errors;
    public IReadOnlyDictionary<string, ConfigLocation> Locations => _locations;

    public static string TomlName(PropertyInfo property) => JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);

    public void Check(DocumentSyntax document, Type root)
    {
        foreach (var kv in document.KeyValues) VisitKeyValue(root, "", kv);
        foreach (var table in document.Tables)
        {
            if (table.Name is null) continue;
            var (type, path) = ResolveTable(root, table.Name, table is TableArraySyntax);
            if (type is null) continue;
            foreach (var kv in table.Items) VisitKeyValue(type, path, kv);
        }
    }

    private (Type? Type, string Path) ResolveTable(Type root, KeySyntax name, bool isArray)
    {
        var segments = Segments(name);
        Type type = root;
        string path = "";
        for (int i = 0; i < segments.Count; i++)
        {
            var (segment, node) = segments[i];
            if (IsStringDictionary(type))
            {
                Error(node, $"[{Join(segments)}]: '{path}' holds plain key = value pairs, not tables");
                return (null, path);
            }
            var property = FindProperty(type, segment, node, path);
            if (property is null) return (null, path);
            path = Append(path, segment);
            bool last = i == segments.Count - 1;
            var propertyType = property.PropertyType;
            if (TryGetListElement(propertyType, out var element) && IsObject(element))
            {
                if (last && !isArray)
                {
                    Error(node, $"'{path}' is a list of tables; write [[{path}]]");
                    return (null, path);
                }
                _tableArrayCounts.TryGetValue(path, out int count);
                if (last) _tableArrayCounts[path] = count + 1;
                int index = last ? count : Math.Max(0, count - 1);
                path = $"{path}[{index}]";
                type = element;
                if (last) Record(path, node);
                continue;
            }
            if (last && isArray)
            {
                Error(node, $"'{path}' is a single table; write [{path}]");
                return (null, path);
            }
            if (!IsObject(propertyType) && !IsStringDictionary(propertyType))
            {
                Error(node, $"'{path}' is a value, not a table; write {segment} = ...");
                return (null, path);
            }
            type = propertyType;
            if (last) Record(path, node);
        }
        return (type, path);
    }

    private void VisitKeyValue(Type owner, string basePath, KeyValueSyntax kv)
    {
        if (kv.Key is null || kv.Value is null) return;
        var segments = Segments(kv.Key);
        Type type = owner;
        string path = basePath;
        for (int i = 0; i < segments.Count; i++)
        {
            var (segment, node) = segments[i];
            if (IsStringDictionary(type))
            {
                // Free-form map (labels, fields, kafka.properties): any key is fine, the rest of a dotted key included.
                path = Append(path, string.Join('.', segments.Skip(i).Select(s => s.Name)));
                Record(path, kv.Value);
                CheckEnv(path, kv.Value);
                return;
            }
            var property = FindProperty(type, segment, node, path);
            if (property is null) return;
            path = Append(path, segment);
            if (i < segments.Count - 1)
            {
                if (!IsObject(property.PropertyType) && !IsStringDictionary(property.PropertyType))
                {
                    Error(node, $"'{path}' is a value and has no '{segments[i + 1].Name}'");
                    return;
                }
                type = property.PropertyType;
                continue;
            }
            Record(path, kv.Value);
            VisitValue(property.PropertyType, path, kv.Value);
        }
    }

    private void VisitValue(Type type, string path, ValueSyntax value)
    {
        if (IsStringDictionary(type))
        {
            if (value is InlineTableSyntax map)
            {
                foreach (var item in map.Items)
                {
                    if (item.KeyValue?.Key is null || item.KeyValue.Value is null) continue;
                    var childPath = Append(path, string.Join('.', Segments(item.KeyValue.Key).Select(s => s.Name)));
                    Record(childPath, item.KeyValue.Value);
                    CheckEnv(childPath, item.KeyValue.Value);
                }
            }
            return;
        }
        if (IsObject(type) && value is InlineTableSyntax table)
        {
            foreach (var item in table.Items)
            {
                if (item.KeyValue is not null) VisitKeyValue(type, path, item.KeyValue);
            }
            return;
        }
        if (TryGetListElement(type, out var element) && value is ArraySyntax array)
        {
            int index = 0;
            foreach (var item in array.Items)
            {
                if (item.Value is null) continue;
                var itemPath = $"{path}[{index++}]";
                Record(itemPath, item.Value);
                VisitValue(element, itemPath, item.Value);
            }
            return;
        }
        CheckEnv(path, value);
    }

    private void CheckEnv(string path, ValueSyntax value)
    {
        if (value is not StringValueSyntax { Value: { } text }) return;
        foreach (var name in EnvInterpolation.ReferencedVariables(text))
        {
            if (Environment.GetEnvironmentVariable(name) is null && !EnvInterpolation.HasDefault(text, name))
                Error(value, $"'{path}' uses ${{env:{name}}} but the environment variable {name} is not set");
        }
    }

    private PropertyInfo? FindProperty(Type type, string key, SyntaxNode node, string path)
    {
        var properties = ConfigProperties(type);
        foreach (var p in properties)
        {
            if (TomlName(p) == key) return p;
        }
        var names = properties.Select(TomlName).ToList();
        var nearest = Nearest(key, names);
        var where = path.Length == 0 ? "at the top level" : $"in [{path}]";
        var hint = nearest is null ? $"valid keys: {string.Join(", ", names)}" : $"did you mean '{nearest}'?";
        Error(node, $"unknown key '{key}' {where}; {hint}");
        return null;
    }

    internal static PropertyInfo[] ConfigProperties(Type type)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetCustomAttribute<Tomlyn.Serialization.TomlIgnoreAttribute>() is null).ToArray();

    /// <summary>The closest valid key by edit distance, if it is close enough to be the likely intent.</summary>
    internal static string? Nearest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            int d = Levenshtein(key, candidate);
            if (d < bestDistance) { bestDistance = d; best = candidate; }
        }
        return bestDistance <= Math.Max(2, key.Length / 3) ? best : null;
    }

    private static int Levenshtein(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    private static List<(string Name, SyntaxNode Node)> Segments(KeySyntax key)
    {
        var list = new List<(string, SyntaxNode)>();
        if (key.Key is not null) list.Add((KeyText(key.Key), key.Key));
        foreach (var dotted in key.DotKeys)
        {
            if (dotted.Key is not null) list.Add((KeyText(dotted.Key), dotted.Key));
        }
        return list;
    }

    private static string KeyText(BareKeyOrStringValueSyntax key) => key switch
    {
        BareKeySyntax bare => bare.Key?.Text ?? "",
        StringValueSyntax quoted => quoted.Value ?? "",
        _ => key.ToString() ?? "",
    };

    private static string Join(List<(string Name, SyntaxNode Node)> segments) => string.Join('.', segments.Select(s => s.Name));

    private static string Append(string path, string segment) => path.Length == 0 ? segment : $"{path}.{segment}";

    internal static bool IsObject(Type type)
        => type.IsClass && type != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(type);

    internal static bool IsStringDictionary(Type type)
        => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>);

    internal static bool TryGetListElement(Type type, out Type element)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            element = type.GetGenericArguments()[0];
            return true;
        }
        element = typeof(object);
        return false;
    }

    private void Record(string path, SyntaxNode node) => _locations[path] = Location(node);

    private void Error(SyntaxNode node, string message) => _errors.Add(new ConfigError(Location(node), message));

    private ConfigLocation Location(SyntaxNode node) => new(file, node.Span.Start.Line + 1, node.Span.Start.Column + 1);
}
