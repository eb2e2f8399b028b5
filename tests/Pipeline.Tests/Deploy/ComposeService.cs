using Pipeline.Testing;
using YamlDotNet.RepresentationModel;
using static Pipeline.Tests.Deploy.ComposeFile;

namespace Pipeline.Tests.Deploy;

/// <summary>A mount of a service. <paramref name="Entry"/> is the entry as written, for messages.</summary>
internal sealed record ComposeMount(string Source, string Target, bool IsBind, string Entry)
{
    /// <summary>Whether <paramref name="containerPath"/> is this mount's target or lies inside it.</summary>
    public bool Covers(string containerPath)
    {
        if (Target == "/") return containerPath.StartsWith('/');
        var target = Target.TrimEnd('/');
        return target.Length > 0 && (containerPath == target || containerPath.StartsWith(target + "/", StringComparison.Ordinal));
    }
}

/// <summary>A container port a service declares, from <c>expose</c> or <c>ports</c>, with the entry it came from.</summary>
internal sealed record ComposePort(int ContainerPort, string Entry);

/// <summary>One service of a compose file.</summary>
internal sealed class ComposeService(string name, YamlMappingNode node)
{
    public string Name { get; } = name;

    public YamlMappingNode Node { get; } = node;

    /// <summary>The names other containers reach it by: the service name, plus <c>hostname</c> and <c>container_name</c> when set.</summary>
    public IReadOnlySet<string> NetworkNames
    {
        get
        {
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { Name };
            foreach (var key in new[] { "hostname", "container_name" })
            {
                var value = Text(Child(Node, key));
                if (value.Length > 0) names.Add(value);
            }
            return names;
        }
    }

    /// <summary><c>command</c> as arguments: a sequence as is, a string split on white space.</summary>
    public IReadOnlyList<string> Command => Child(Node, "command") switch
    {
        YamlSequenceNode seq => seq.Children.Select(Text).ToList(),
        YamlScalarNode scalar => (scalar.Value ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        _ => [],
    };

    /// <summary>The value after <paramref name="flag"/> in <see cref="Command"/> (<c>--flag value</c> or <c>--flag=value</c>).</summary>
    public string? CommandOption(string flag)
    {
        var args = Command;
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == flag && i + 1 < args.Count) return args[i + 1];
            if (args[i].StartsWith(flag + "=", StringComparison.Ordinal)) return args[i][(flag.Length + 1)..];
        }
        return null;
    }

    /// <summary><c>environment</c>, from the mapping form or the <c>KEY=VALUE</c> list form.</summary>
    public IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            switch (Child(Node, "environment"))
            {
                case YamlMappingNode map:
                    foreach (var (key, value) in map.Children) env[Text(key)] = Text(value);
                    break;
                case YamlSequenceNode list:
                    foreach (var item in list.Children)
                    {
                        var text = Text(item);
                        int eq = text.IndexOf('=');
                        if (eq > 0) env[text[..eq]] = text[(eq + 1)..];
                        else env[text] = "";
                    }
                    break;
            }
            return env;
        }
    }

    public IReadOnlyList<ComposeMount> Mounts
    {
        get
        {
            var mounts = new List<ComposeMount>();
            if (Child(Node, "volumes") is not YamlSequenceNode list) return mounts;
            foreach (var item in list.Children)
            {
                if (item is YamlMappingNode longForm)
                {
                    var source = Text(Child(longForm, "source"));
                    var target = Text(Child(longForm, "target"));
                    mounts.Add(new ComposeMount(source, target, Text(Child(longForm, "type")) == "bind", $"{source}:{target}"));
                    continue;
                }
                var entry = Text(item);
                var parts = entry.Split(':');
                if (parts.Length == 1)
                {
                    mounts.Add(new ComposeMount("", parts[0], false, entry)); // anonymous volume
                    continue;
                }
                var src = parts[0];
                bool isBind = src.StartsWith('.') || src.StartsWith('/') || src.StartsWith('~');
                mounts.Add(new ComposeMount(src, parts[1], isBind, entry));
            }
            return mounts;
        }
    }

    /// <summary>Container ports from <c>expose</c> and <c>ports</c>. Entries that are not a single port (ranges) come back as port 0.</summary>
    public IReadOnlyList<ComposePort> ContainerPorts
    {
        get
        {
            var ports = new List<ComposePort>();
            if (Child(Node, "expose") is YamlSequenceNode expose)
            {
                foreach (var item in expose.Children)
                {
                    var entry = Text(item);
                    ports.Add(new ComposePort(ParsePort(entry.Split('/')[0]), $"expose '{entry}'"));
                }
            }
            if (Child(Node, "ports") is YamlSequenceNode published)
            {
                foreach (var item in published.Children)
                {
                    if (item is YamlMappingNode longForm)
                    {
                        var target = Text(Child(longForm, "target"));
                        ports.Add(new ComposePort(ParsePort(target), $"ports target '{target}'"));
                        continue;
                    }
                    var entry = Text(item);
                    var spec = entry.Split('/')[0];
                    if (spec.StartsWith('[')) spec = spec[(spec.IndexOf(']') + 1)..]; // [::1]:9464:9464
                    ports.Add(new ComposePort(ParsePort(spec[(spec.LastIndexOf(':') + 1)..]), $"ports '{entry}'"));
                }
            }
            return ports;
        }
    }

    /// <summary><c>depends_on</c>: service name to condition (<c>service_started</c> for the list form).</summary>
    public IReadOnlyDictionary<string, string> DependsOn
    {
        get
        {
            var deps = new Dictionary<string, string>(StringComparer.Ordinal);
            switch (Child(Node, "depends_on"))
            {
                case YamlSequenceNode list:
                    foreach (var item in list.Children) deps[Text(item)] = "service_started";
                    break;
                case YamlMappingNode map:
                    foreach (var (key, value) in map.Children)
                    {
                        var condition = Text(Child(value, "condition"));
                        deps[Text(key)] = condition.Length > 0 ? condition : "service_started";
                    }
                    break;
            }
            return deps;
        }
    }

    /// <summary>The healthcheck's <c>test</c> as one string, or null when the service has none.</summary>
    public string? HealthcheckTest => Child(Child(Node, "healthcheck"), "test") switch
    {
        YamlSequenceNode seq => string.Join(' ', seq.Children.Select(Text)),
        YamlScalarNode scalar => scalar.Value,
        _ => null,
    };

    /// <summary><c>build</c> as (context, dockerfile), or null when the service uses a prebuilt image.</summary>
    public (string Context, string Dockerfile)? Build => Child(Node, "build") switch
    {
        YamlScalarNode context => (context.Value ?? ".", "Dockerfile"),
        YamlMappingNode map => (
            Text(Child(map, "context")) is { Length: > 0 } c ? c : ".",
            Text(Child(map, "dockerfile")) is { Length: > 0 } d ? d : "Dockerfile"),
        _ => null,
    };

    private static int ParsePort(string text) => int.TryParse(text.Trim(), out int port) && port is > 0 and <= 65535 ? port : 0;
}
