using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Filters;

namespace Pipeline.Producers.Logs;

/// <summary>
/// The inputs a config asks for, worked out against the ones running: an input whose files are read
/// the same way (same <see cref="LogInput.Signature"/>) is kept, with only its filter chain replaced, so
/// a reload does not disturb its files; the others are added or removed. Built off the tailer's thread
/// (plugins load here), applied by the tailer between two reads, so a chain is swapped atomically.
/// </summary>
internal sealed class LogInputPlan
{
    public const string Stage = "producers.logs";

    private static readonly LogInputConfig[] DefaultInputs =
        [new LogInputConfig { Paths = ["/var/log/*.log", "/var/log/syslog"], StartAt = "end" }];

    private LogInputPlan(List<(LogInput Input, FilterChain Chain)> inputs, List<LogInput> removed, int added, long maxInFlightBytes)
    {
        Inputs = inputs;
        Removed = removed;
        Added = added;
        MaxInFlightBytes = maxInFlightBytes;
    }

    /// <summary>Every input to run, each with the chain it runs from now on.</summary>
    public List<(LogInput Input, FilterChain Chain)> Inputs { get; }

    /// <summary>Running inputs that are not wanted any more: their files are closed once Kafka has answered for them.</summary>
    public List<LogInput> Removed { get; }

    public int Added { get; }

    public long MaxInFlightBytes { get; }

    /// <summary>Throws <see cref="ArgumentException"/> (a filter is wrong) or an I/O error (a plugin cannot load).</summary>
    public static LogInputPlan Build(PipelineConfig config, IReadOnlyList<LogInput> running)
    {
        var wanted = config.Logs.Inputs.Count > 0 ? (IReadOnlyList<LogInputConfig>)config.Logs.Inputs : DefaultInputs;
        FilterFactory? factory = null;
        var unused = new List<LogInput>(running);
        var inputs = new List<(LogInput, FilterChain)>(wanted.Count);
        int added = 0;
        foreach (var c in wanted)
        {
            // Only pay for filters (and plugin loading) when a chain is configured.
            var chain = c.Filters.Count == 0 ? FilterChain.Empty : (factory ??= new FilterFactory(config.PluginDir)).CreateChain(c.Filters, Stage);
            var signature = LogInput.SignatureOf(c);
            int keep = unused.FindIndex(i => i.Signature == signature);
            if (keep >= 0)
            {
                inputs.Add((unused[keep], chain));
                unused.RemoveAt(keep);
            }
            else
            {
                inputs.Add((new LogInput(c, config.EffectiveHostName, chain), chain));
                added++;
            }
        }
        return new LogInputPlan(inputs, unused, added, config.Logs.MaxInFlightBytes);
    }
}
