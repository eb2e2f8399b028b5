using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using Pipeline.Plumbing.Expressions;

namespace Pipeline.Plumbing.Filters;

/// <summary>
/// The registry of filter plugins: the built-ins, plus custom plugins found in a directory of .NET
/// assemblies, each loaded in its own AssemblyLoadContext so its dependencies cannot clash with ours.
/// </summary>
public sealed class FilterFactory
{
    private readonly Dictionary<string, IEventFilterFactory> _custom = new(StringComparer.Ordinal);

    public static readonly string[] BuiltInTypes = ["drop", "keep", "add_fields", "rename", "remove_fields", "redact", "regex", "dissect", "json", "sample", "level"];

    // Plugin assemblies loaded so far, by full path, with the size and time of the file loaded. A load
    // context that is not collectible is never unloaded, so every config reload or check loading the
    // same file again would leak a copy; an unchanged file is reused instead.
    private static readonly Dictionary<string, (long Size, DateTime Modified, IEventFilterFactory[] Factories)> Loaded = new(StringComparer.Ordinal);
    private static readonly Lock LoadLock = new();

    public FilterFactory(string? pluginDirectory = null)
        : this(pluginDirectory, [])
    {
    }

    /// <summary>With plugins created in-process as well (tests register theirs this way, without building an assembly).</summary>
    internal FilterFactory(string? pluginDirectory, IEnumerable<IEventFilterFactory> inProcess)
    {
        foreach (var factory in inProcess) _custom[factory.Type] = factory;
        if (string.IsNullOrEmpty(pluginDirectory) || !Directory.Exists(pluginDirectory)) return;
        foreach (var dll in Directory.GetFiles(pluginDirectory, "*.dll"))
        {
            foreach (var factory in Load(Path.GetFullPath(dll)))
            {
                if (Array.IndexOf(BuiltInTypes, factory.Type) >= 0)
                    throw new InvalidOperationException($"plugin {dll}: type \"{factory.Type}\" is a built-in filter name");
                _custom[factory.Type] = factory;
            }
        }
    }

    private static IEventFilterFactory[] Load(string dll)
    {
        var file = new FileInfo(dll);
        lock (LoadLock)
        {
            if (Loaded.TryGetValue(dll, out var cached) && cached.Size == file.Length && cached.Modified == file.LastWriteTimeUtc) return cached.Factories;
            var contract = typeof(IEventFilter).Assembly.GetName().Name;
            // A copy of the contract assembly next to a plugin would define a second IEventFilter: the host's is used.
            if (Path.GetFileNameWithoutExtension(dll) == contract) return [];
            var context = new PluginLoadContext(dll);
            var assembly = context.LoadFromAssemblyPath(dll);
            var factories = new List<IEventFilterFactory>();
            // A plugin's own dependencies sit in the same directory; only assemblies built against the contract can hold a plugin.
            if (Array.Exists(assembly.GetReferencedAssemblies(), a => a.Name == contract))
            {
                foreach (var type in assembly.GetExportedTypes())
                {
                    if (type.IsAbstract || !typeof(IEventFilterFactory).IsAssignableFrom(type)) continue;
                    factories.Add((IEventFilterFactory)Activator.CreateInstance(type)!);
                }
            }
            var result = factories.ToArray();
            Loaded[dll] = (file.Length, file.LastWriteTimeUtc, result);
            return result;
        }
    }

    public IReadOnlyCollection<string> CustomTypes => _custom.Keys;

    /// <summary>Builds a chain; throws <see cref="ArgumentException"/> naming the filter (by position and type) that is wrong.</summary>
    public FilterChain CreateChain(IReadOnlyList<FilterConfig> configs, string stage)
    {
        var filters = new List<(IEventFilter, bool)>(configs.Count);
        for (int i = 0; i < configs.Count; i++)
        {
            try
            {
                filters.Add((Create(configs[i]), configs[i].OnError == "deadletter"));
            }
            catch (Exception e) when (e is ArgumentException or ExpressionException or RegexParseException)
            {
                throw new ArgumentException($"filter #{i + 1} ({configs[i].Type}): {e.Message}", e);
            }
        }
        return new FilterChain(filters, stage);
    }

    public IEventFilter Create(FilterConfig c)
    {
        Expression? where = c.Where.Length > 0 ? Expression.Parse(c.Where) : null;
        IEventFilter filter = c.Type switch
        {
            "drop" => new DropFilter(where ?? throw new ArgumentException("drop needs 'where'")),
            "keep" => new KeepFilter(where ?? throw new ArgumentException("keep needs 'where'")),
            "add_fields" => new AddFieldsFilter(c.Fields),
            "rename" => new RenameFilter(c.Fields),
            "remove_fields" => new RemoveFieldsFilter(c.Names),
            "redact" => new RedactFilter(c.Field, c.Names),
            "regex" => new RegexFilter(c.Field, NamedGroupRegex(c.Pattern), c.Target),
            "dissect" => new DissectFilter(c.Field, c.Pattern, c.Target),
            "json" => new JsonFieldFilter(c.Field, c.Target),
            "sample" => c.Every >= 1 ? new SampleFilter(c.Every, where) : throw new ArgumentException("sample needs every >= 1"),
            "level" => new LevelFilter(c.Field == "message" ? "log.level" : c.Field),
            _ when _custom.TryGetValue(c.Type, out var custom) => custom.Create(c),
            _ => throw new ArgumentException($"unknown filter type \"{c.Type}\"; built-in: {string.Join(", ", BuiltInTypes)}"
                + (_custom.Count > 0 ? $"; plugins: {string.Join(", ", _custom.Keys)}" : "")),
        };
        // drop/keep/sample use 'where' themselves; for the others it limits where they apply.
        return where is not null && c.Type is not ("drop" or "keep" or "sample") ? new ConditionalFilter(where, filter) : filter;
    }

    private static Regex NamedGroupRegex(string pattern)
    {
        if (pattern.Length == 0) throw new ArgumentException("regex needs 'pattern' with named groups, e.g. '(?<status>\\d{3})'");
        var regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
        if (Array.TrueForAll(regex.GetGroupNames(), n => char.IsAsciiDigit(n[0])))
            throw new ArgumentException($"regex pattern \"{pattern}\" has no named group; write (?<name>...) for each field to extract");
        return regex;
    }

    /// <summary>Resolves a plugin's own dependencies from its directory, and shares ours (the interface) with it.</summary>
    private sealed class PluginLoadContext(string pluginPath) : AssemblyLoadContext(Path.GetFileNameWithoutExtension(pluginPath), isCollectible: false)
    {
        private readonly AssemblyDependencyResolver _resolver = new(Path.GetFullPath(pluginPath));

        protected override Assembly? Load(AssemblyName name)
        {
            // The contract assembly must be the host's, or the plugin's IEventFilter would be a different type.
            if (name.Name == typeof(IEventFilter).Assembly.GetName().Name) return null;
            var path = _resolver.ResolveAssemblyToPath(name);
            return path is null ? null : LoadFromAssemblyPath(path);
        }
    }
}
