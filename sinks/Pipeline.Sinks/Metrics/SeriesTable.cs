using Pipeline.Plumbing.Telemetry;
using Prometheus;

namespace Pipeline.Sinks.Metrics;

/// <summary>
/// The series of one exported metric, with its two guards: at most <c>max</c> series (updates that would add more are
/// refused and counted in <c>pipeline_exporter_series_refused_total</c>), and series not touched for
/// <c>staleness</c> are removed, so sources that went away do not leave series behind forever. Used from one thread.
/// </summary>
internal sealed class SeriesTable<TChild> where TChild : ChildBase
{
    private readonly Collector<TChild> _metric;
    private readonly int _labelCount;
    private readonly int _max;
    private readonly long _stalenessMs;
    private readonly Counter.Child _refused;
    private readonly Gauge.Child _size;
    private readonly Dictionary<SeriesKey, Entry> _series = [];
    private readonly List<SeriesKey> _expired = [];

    /// <param name="stalenessMs">Milliseconds without a touch after which a series is removed; 0 keeps series until <see cref="Remove"/>.</param>
    public SeriesTable(Collector<TChild> metric, int labelCount, int max, long stalenessMs)
    {
        _metric = metric;
        _labelCount = labelCount;
        _max = max;
        _stalenessMs = stalenessMs;
        _refused = PipelineMetrics.ExporterSeriesRefused.WithLabels(metric.Name);
        _size = PipelineMetrics.ExporterSeries.WithLabels(metric.Name);
    }

    public string Name => _metric.Name;

    public int Count => _series.Count;

    /// <summary>The series for <paramref name="key"/>, created if the limit allows; null when refused.</summary>
    public TChild? Touch(in SeriesKey key, long nowMs)
    {
        if (_series.TryGetValue(key, out var entry))
        {
            entry.TouchedMs = nowMs;
            return entry.Child;
        }
        if (_series.Count >= _max)
        {
            _refused.Inc();
            return null;
        }
        entry = new Entry(_metric.WithLabels(key.Values(_labelCount))) { TouchedMs = nowMs };
        _series.Add(key, entry);
        _size.Set(_series.Count);
        return entry.Child;
    }

    /// <summary>The series for <paramref name="key"/> if it exists, without touching it.</summary>
    public TChild? Find(in SeriesKey key) => _series.TryGetValue(key, out var entry) ? entry.Child : null;

    public void Remove(in SeriesKey key)
    {
        if (!_series.Remove(key, out var entry)) return;
        entry.Child.Remove();
        _size.Set(_series.Count);
    }

    /// <summary>Removes the series not touched for the staleness time; returns how many.</summary>
    public int Sweep(long nowMs)
    {
        if (_stalenessMs <= 0) return 0;
        foreach (var (key, entry) in _series)
        {
            if (nowMs - entry.TouchedMs >= _stalenessMs) _expired.Add(key);
        }
        foreach (var key in _expired) Remove(key);
        int removed = _expired.Count;
        _expired.Clear();
        return removed;
    }

    private sealed class Entry(TChild child)
    {
        public TChild Child { get; } = child;
        public long TouchedMs { get; set; }
    }
}
