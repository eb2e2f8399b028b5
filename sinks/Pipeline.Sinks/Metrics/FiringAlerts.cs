using Prometheus;

namespace Pipeline.Sinks.Metrics;

/// <summary>
/// <c>ops_alerts_firing{alertname,severity,host}</c>: how many alert groups (fingerprints) with those labels are firing.
/// A fingerprint counts once however often it is re-announced, and its resolved event takes it away; a series that
/// drops to zero is removed. Not subject to staleness: a firing alert is announced once and stays until resolved.
/// </summary>
internal sealed class FiringAlerts(SeriesTable<Gauge.Child> series)
{
    private readonly Dictionary<string, SeriesKey> _firing = new(StringComparer.Ordinal);

    public int Count => _firing.Count;

    public void Firing(string fingerprint, in SeriesKey key, long nowMs)
    {
        if (_firing.ContainsKey(fingerprint)) return;
        var child = series.Touch(key, nowMs);
        if (child is null) return; // refused by the cardinality guard (and counted there): nothing to take back later
        child.Inc();
        _firing[fingerprint] = key;
    }

    public void Resolved(string fingerprint)
    {
        if (!_firing.Remove(fingerprint, out var key)) return;
        var child = series.Find(key);
        if (child is null) return;
        child.Dec();
        if (child.Value <= 0) series.Remove(key);
    }
}
