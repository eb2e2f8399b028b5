using System.Buffers.Text;
using System.Globalization;
using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Probes;

/// <summary><c>load</c>: the 1-minute load average per core (published as the value) against <c>max_load_per_core</c>.</summary>
public sealed class LoadProbe : IProbe
{
    private readonly double _max;
    private readonly string _loadavg;
    private readonly int _cores;

    public LoadProbe(ProbeConfig config) : this(config, "/proc/loadavg", Environment.ProcessorCount) { }

    internal LoadProbe(ProbeConfig config, string loadavg, int cores)
    {
        _max = config.MaxLoadPerCore;
        _loadavg = loadavg;
        _cores = Math.Max(1, cores);
    }

    public string Target => _loadavg;

    public ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken) => new(Check());

    private ProbeResult Check()
    {
        Span<byte> buffer = stackalloc byte[256];
        double load1;
        try
        {
            int n = ProcFile.Read(_loadavg, buffer);
            if (!Utf8Parser.TryParse(buffer[..n], out load1, out _))
                return ProbeResult.Unknown(ProbeReasons.Unreadable, $"{_loadavg} does not start with a number");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ProbeResult.Unknown(ProbeReasons.Unreadable, $"cannot read {_loadavg}: {e.Message}");
        }
        double perCore = Math.Round(load1 / _cores, 3);
        var text = string.Create(CultureInfo.InvariantCulture, $"load {load1:0.##} on {_cores} cores = {perCore:0.###} per core (max {_max:0.##})");
        return perCore > _max ? ProbeResult.Problem(ProbeReasons.Threshold, text, perCore) : ProbeResult.Ok(text, perCore);
    }
}
