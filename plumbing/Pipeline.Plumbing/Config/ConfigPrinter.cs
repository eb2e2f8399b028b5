using System.Reflection;
using System.Text.Json;
using Tomlyn;

namespace Pipeline.Plumbing.Config;

/// <summary>Prints the effective config as TOML, every default filled in and every secret masked.</summary>
public static class ConfigPrinter
{
    public const string Mask = "********";

    private static readonly TomlSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public static string ToToml(PipelineConfig config)
    {
        // Round-trip to get a private copy, so masking never touches the config in use.
        var copy = TomlSerializer.Deserialize<PipelineConfig>(TomlSerializer.Serialize(config, Options), Options) ?? new PipelineConfig();
        MaskSecrets(copy);
        return TomlSerializer.Serialize(copy, Options);
    }

    private static void MaskSecrets(object target)
    {
        foreach (var property in TomlShapeChecker.ConfigProperties(target.GetType()))
        {
            var value = property.GetValue(target);
            if (value is string s)
            {
                if (s.Length > 0 && EnvInterpolation.IsSecret(property)) property.SetValue(target, Mask);
            }
            else if (value is System.Collections.IList list)
            {
                foreach (var item in list)
                {
                    if (item is not null && TomlShapeChecker.IsObject(item.GetType())) MaskSecrets(item);
                }
            }
            else if (value is Dictionary<string, string> map && property.Name == nameof(KafkaConfig.Properties))
            {
                // librdkafka passwords arrive as pass-through properties (sasl.password, ssl.key.password).
                foreach (var key in map.Keys.ToList())
                {
                    if (key.Contains("password", StringComparison.OrdinalIgnoreCase) || key.Contains("secret", StringComparison.OrdinalIgnoreCase))
                        map[key] = Mask;
                }
            }
            else if (value is not null && TomlShapeChecker.IsObject(property.PropertyType) && property.GetCustomAttribute<SecretAttribute>() is null)
            {
                MaskSecrets(value);
            }
        }
    }
}
