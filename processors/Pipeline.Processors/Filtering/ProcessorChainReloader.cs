using System.Globalization;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Filters;

namespace Pipeline.Processors.Filtering;

/// <summary>
/// Takes <c>[[processors.filters]]</c> from a reloaded config into the running processors: every new chain is
/// built first and the set swapped at once (<see cref="SourceFilterChains.Replace"/>), so an invalid chain is
/// rejected and the old ones keep running. The Streamiz topology itself is fixed once started, so changes to
/// <c>[[rules]]</c> and to the other <c>[processors]</c> settings are logged as needing a restart.
/// </summary>
public sealed class ProcessorChainReloader(SourceFilterChains chains, PipelineConfig running, ILogger<ProcessorChainReloader> logger) : IConfigReloadable
{
    // What the running topology was built from; a reload never changes it, so the comparisons stay against it.
    private readonly string _runningRules = Describe(BuiltInRules.Effective(running));
    private readonly HashSet<string> _sourcesRead = SourcesRead(running);

    /// <summary>Chain sets swapped in since start.</summary>
    public int ReloadsApplied { get; private set; }

    /// <summary>Builds and swaps in one go (tests; the <see cref="ConfigReloader"/> prepares every component first).</summary>
    public void Apply(LoadedConfig loaded) => Prepare(loaded)();

    public Action Prepare(LoadedConfig loaded)
    {
        var config = loaded.Config;
        FilterFactory factory;
        try
        {
            factory = new FilterFactory(config.PluginDir);
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or System.Reflection.ReflectionTypeLoadException)
        {
            throw new InvalidOperationException($"[[processors.filters]]: plugin_dir \"{config.PluginDir}\" cannot be loaded: {e.Message}", e);
        }
        // Throws ArgumentException naming the source and the filter; the ConfigReloader logs and counts it as a failure.
        var swap = chains.PrepareReplace(config.Processors.Filters, factory);
        return () =>
        {
            swap();
            ReloadsApplied++;
            logger.LogInformation("processor filter chains reloaded: {Count} filter(s)", config.Processors.Filters.Count);
            WarnAboutWhatNeedsARestart(config);
        };
    }

    private void WarnAboutWhatNeedsARestart(PipelineConfig config)
    {
        foreach (var filter in config.Processors.Filters)
        {
            if (!_sourcesRead.Contains(filter.Source))
            {
                logger.LogWarning("[[processors.filters]] for source \"{Source}\" does not run until a restart: the running processors do not read that source (no rule or filtered topic used it at start)", filter.Source);
                break;
            }
        }
        if (Describe(BuiltInRules.Effective(config)) != _runningRules)
            logger.LogWarning("[[rules]] changed; rules apply after a restart (the running stream topology keeps the rules it started with)");
        var p = config.Processors;
        var r = running.Processors;
        if (p.ApplicationId != r.ApplicationId || p.Guarantee != r.Guarantee || p.Grace != r.Grace
            || p.EvaluationInterval != r.EvaluationInterval || p.WriteFiltered != r.WriteFiltered || p.StallTimeout != r.StallTimeout)
            logger.LogWarning("[processors] application_id, guarantee, grace, evaluation_interval, write_filtered or stall_timeout changed; they apply after a restart");
    }

    private static HashSet<string> SourcesRead(PipelineConfig config)
    {
        var sources = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in BuiltInRules.Effective(config)) sources.Add(rule.Source);
        if (config.Processors.WriteFiltered)
        {
            foreach (var filter in config.Processors.Filters) sources.Add(filter.Source);
        }
        return sources;
    }

    /// <summary>Every field of every rule, in order: two configs with the same text run the same rules.</summary>
    private static string Describe(IEnumerable<RuleConfig> rules)
        => string.Join("\n", rules.Select(r => string.Join("\u001f",
            r.Name, r.Source, r.Where, string.Join(",", r.GroupBy), r.Aggregate, r.Op, r.Threshold.ToString("R", CultureInfo.InvariantCulture),
            r.Kind, r.Window, r.Every, r.For, r.RepeatInterval, r.Severity, r.Summary, r.Enabled ? "on" : "off",
            string.Join(",", r.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)))));
}
