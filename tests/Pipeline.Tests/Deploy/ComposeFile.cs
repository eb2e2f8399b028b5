using Pipeline.Testing;
using YamlDotNet.RepresentationModel;

namespace Pipeline.Tests.Deploy;

/// <summary>
/// The parts of a docker-compose.yml the deployment checks read, with both the short and the long
/// syntax of the Compose specification understood. Built from a YAML node tree, so a test can
/// change a copy in memory and run a check on it.
/// </summary>
internal sealed class ComposeFile
{
    private ComposeFile(string source, IReadOnlyDictionary<string, ComposeService> services, IReadOnlySet<string> namedVolumes)
    {
        Source = source;
        Services = services;
        NamedVolumes = namedVolumes;
    }

    /// <summary>The file as the repository names it, for messages.</summary>
    public string Source { get; }

    public IReadOnlyDictionary<string, ComposeService> Services { get; }

    /// <summary>Volumes declared under the top-level <c>volumes:</c>.</summary>
    public IReadOnlySet<string> NamedVolumes { get; }

    public static ComposeFile Load(string path) => FromRoot(ParseYaml(File.ReadAllText(path)), RepositoryRoot.Display(path));

    /// <summary>The document's root mapping; aliases (<c>*name</c>) resolve to the anchored node.</summary>
    public static YamlMappingNode ParseYaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode root
            ? root
            : throw new InvalidDataException("the YAML document is not a mapping");
    }

    public static ComposeFile FromRoot(YamlMappingNode root, string source)
    {
        var services = new Dictionary<string, ComposeService>(StringComparer.Ordinal);
        if (Child(root, "services") is YamlMappingNode serviceNodes)
        {
            foreach (var (key, value) in serviceNodes.Children)
            {
                var name = Text(key);
                services[name] = new ComposeService(name, value as YamlMappingNode ?? new YamlMappingNode());
            }
        }
        var volumes = new HashSet<string>(StringComparer.Ordinal);
        if (Child(root, "volumes") is YamlMappingNode volumeNodes)
        {
            foreach (var key in volumeNodes.Children.Keys) volumes.Add(Text(key));
        }
        return new ComposeFile(source, services, volumes);
    }

    public static YamlNode? Child(YamlNode? node, string key)
        => node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public static string Text(YamlNode? node) => node is YamlScalarNode scalar ? scalar.Value ?? "" : "";
}
