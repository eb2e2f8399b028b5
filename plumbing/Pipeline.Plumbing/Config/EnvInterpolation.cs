using System.Reflection;
using System.Text.RegularExpressions;

namespace Pipeline.Plumbing.Config;

/// <summary>
/// <c>${env:NAME}</c> and <c>${env:NAME:-fallback}</c> in string values, so secrets stay out of config files.
/// Applied after parsing, so a secret containing quotes or newlines cannot change the TOML's meaning.
/// </summary>
public static partial class EnvInterpolation
{
    [GeneratedRegex(@"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")]
    private static partial Regex Reference();

    public static IEnumerable<string> ReferencedVariables(string text)
    {
        foreach (Match m in Reference().Matches(text)) yield return m.Groups[1].Value;
    }

    public static bool HasDefault(string text, string name)
    {
        foreach (Match m in Reference().Matches(text))
        {
            if (m.Groups[1].Value == name && m.Groups[2].Success) return true;
        }
        return false;
    }

    public static string Expand(string text)
    {
        if (!text.Contains("${env:", StringComparison.Ordinal)) return text;
        return Reference().Replace(text, m =>
            Environment.GetEnvironmentVariable(m.Groups[1].Value) ?? (m.Groups[2].Success ? m.Groups[2].Value : ""));
    }

    /// <summary>Expands every string in the config object graph, in place.</summary>
    public static void ExpandAll(object target)
    {
        foreach (var property in TomlShapeChecker.ConfigProperties(target.GetType()))
        {
            var value = property.GetValue(target);
            switch (value)
            {
                case string s:
                    property.SetValue(target, Expand(s));
                    break;
                case List<string> list:
                    for (int i = 0; i < list.Count; i++) list[i] = Expand(list[i]);
                    break;
                case Dictionary<string, string> map:
                    foreach (var key in map.Keys.ToList()) map[key] = Expand(map[key]);
                    break;
                case System.Collections.IList items:
                    foreach (var item in items)
                    {
                        if (item is not null && TomlShapeChecker.IsObject(item.GetType())) ExpandAll(item);
                    }
                    break;
                case not null when TomlShapeChecker.IsObject(property.PropertyType):
                    ExpandAll(value);
                    break;
            }
        }
    }

    internal static bool IsSecret(PropertyInfo property) => property.GetCustomAttribute<SecretAttribute>() is not null;
}
