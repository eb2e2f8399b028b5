using Pipeline.Plumbing.Config;
using Tomlyn;

namespace Pipeline.Kubernetes;

/// <summary>
/// Checks of meaning the CRD schema cannot express (an invalid regex, a relative exec path, a duplicate
/// name), by running the NodeProbe's probes through the same validator as a TOML config.
/// </summary>
public static class NodeProbeValidator
{
    public static List<string> Problems(NodeProbe nodeProbe)
    {
        if (nodeProbe.Spec.Probes.Count == 0) return ["spec.probes is empty"];
        var config = new PipelineConfig { Probes = nodeProbe.Spec.Probes };
        string toml = TomlSerializer.Serialize(config, new TomlSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower });
        try
        {
            ConfigLoader.Parse(toml, $"NodeProbe {nodeProbe.Metadata.NamespaceProperty}/{nodeProbe.Metadata.Name}");
            return [];
        }
        catch (ConfigException e)
        {
            // Line numbers of generated TOML mean nothing to the user; the messages name the probe and key.
            return [.. e.Errors.Select(error => error.Message)];
        }
    }
}
