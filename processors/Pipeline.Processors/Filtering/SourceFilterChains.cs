using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Filters;

namespace Pipeline.Processors.Filtering;

/// <summary>
/// The filter chain of each source topic, swappable as a whole: a reload builds every new chain first
/// and then replaces the set in one reference write, so a record never sees half of a new config.
/// </summary>
public sealed class SourceFilterChains
{
    private volatile IReadOnlyDictionary<string, FilterChain> _chains;

    public SourceFilterChains(IReadOnlyList<FilterConfig> filters, FilterFactory factory) => _chains = Build(filters, factory);

    public static SourceFilterChains From(PipelineConfig config) => new(config.Processors.Filters, new FilterFactory(config.PluginDir));

    /// <summary>The chain for a source topic name (empty when none is configured).</summary>
    public FilterChain For(string topic) => _chains.TryGetValue(topic, out var chain) ? chain : FilterChain.Empty;

    /// <summary>
    /// Builds the new chains and swaps them in; throws <see cref="ArgumentException"/> naming the source and the
    /// filter (leaving the old chains running) when one is invalid.
    /// </summary>
    public void Replace(IReadOnlyList<FilterConfig> filters, FilterFactory factory) => PrepareReplace(filters, factory)();

    /// <summary>Builds the new chains (throwing as <see cref="Replace"/> does) and returns the swap, for a reload that must be all or none.</summary>
    public Action PrepareReplace(IReadOnlyList<FilterConfig> filters, FilterFactory factory)
    {
        var chains = Build(filters, factory);
        return () => _chains = chains;
    }

    private static Dictionary<string, FilterChain> Build(IReadOnlyList<FilterConfig> filters, FilterFactory factory)
    {
        var result = new Dictionary<string, FilterChain>(StringComparer.Ordinal);
        foreach (var source in filters.Select(f => f.Source).Distinct())
        {
            var topic = Schemas.Topics.TopicCatalog.Sources[source];
            try
            {
                result[topic.Name] = factory.CreateChain(filters.Where(f => f.Source == source).ToList(), ProcessorTopology.Stage);
            }
            catch (ArgumentException e)
            {
                // The factory numbers filters within one source's chain: say which chain.
                throw new ArgumentException($"[[processors.filters]] of source \"{source}\": {e.Message}", e);
            }
        }
        return result;
    }
}
