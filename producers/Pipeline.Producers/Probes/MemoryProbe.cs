using System.Globalization;
using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Probes;

/// <summary>
/// <c>memory</c>: MemAvailable as a % of MemTotal (published as the value; the built-in host-memory rule
/// reads it so), and PSI <c>some avg10</c> where the kernel has /proc/pressure/memory. Pressure catches
/// what the % misses: a box thrashing its page cache while "available" still looks fine.
/// </summary>
public sealed class MemoryProbe : IProbe
{
    private readonly double _minAvailable;
    private readonly double _maxPressure;
    private readonly string _meminfo;
    private readonly string _pressure;

    public MemoryProbe(ProbeConfig config) : this(config, "/proc/meminfo", "/proc/pressure/memory") { }

    /// <summary>Reads other files than the kernel's, for tests.</summary>
    internal MemoryProbe(ProbeConfig config, string meminfo, string pressure)
    {
        _minAvailable = config.MinAvailablePct;
        _maxPressure = config.MaxPressurePct;
        _meminfo = meminfo;
        _pressure = pressure;
    }

    public string Target => _meminfo;

    public ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken) => new(Check());

    private ProbeResult Check()
    {
        Span<byte> buffer = stackalloc byte[4096];
        double total, available;
        try
        {
            int n = ProcFile.Read(_meminfo, buffer);
            if (!ProcFile.TryNumberAfter(buffer[..n], "MemTotal:"u8, out total) || total <= 0 ||
                !ProcFile.TryNumberAfter(buffer[..n], "MemAvailable:"u8, out available))
                return ProbeResult.Unknown(ProbeReasons.Unreadable, $"{_meminfo} has no MemTotal/MemAvailable (kernel older than 3.14?)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ProbeResult.Unknown(ProbeReasons.Unreadable, $"cannot read {_meminfo}: {e.Message}");
        }
        double pct = Math.Round(100 * available / total, 2);
        double? pressure = null;
        try
        {
            int n = ProcFile.Read(_pressure, buffer);
            if (ProcFile.TryNamedValue(buffer[..n], "some "u8, "avg10="u8, out var avg10)) pressure = avg10;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No PSI (kernel without CONFIG_PSI, or psi=0): the available % alone decides.
        }
        var text = pressure is { } p
            ? string.Create(CultureInfo.InvariantCulture, $"{pct:0.##}% of memory available (min {_minAvailable:0.##}%), pressure some avg10 {p:0.##}%")
            : string.Create(CultureInfo.InvariantCulture, $"{pct:0.##}% of memory available (min {_minAvailable:0.##}%)");
        if (pct < _minAvailable) return ProbeResult.Problem(ProbeReasons.Threshold, text, pct);
        if (_maxPressure > 0 && pressure > _maxPressure) return ProbeResult.Problem("pressure", text + string.Create(CultureInfo.InvariantCulture, $" above {_maxPressure:0.##}%"), pct);
        return ProbeResult.Ok(text, pct);
    }
}
