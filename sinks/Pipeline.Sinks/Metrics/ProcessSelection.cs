using Prometheus;

namespace Pipeline.Sinks.Metrics;

/// <summary>
/// Decides which processes get series: per host, the <c>topN</c> with the highest CPU in their latest sample, plus every
/// process whose latest sample matched the filter. It keeps the latest sample of every process (not only the selected
/// ones, or ranks could not change) and drops those not sampled for the staleness time: a process that exited loses its
/// series then. <see cref="Publish"/> applies the selection to the two gauges; it runs once a second, not per event.
/// </summary>
internal sealed class ProcessSelection(int topN, long stalenessMs)
{
    private readonly Dictionary<string, Dictionary<int, Sample>> _hosts = new(StringComparer.Ordinal);
    private readonly List<Sample> _ranked = [];
    private readonly List<int> _gone = [];
    private readonly List<string> _emptyHosts = [];

    public void Observe(string host, int pid, string name, double cpuRatio, double residentBytes, bool matchesFilter, long nowMs)
    {
        if (!_hosts.TryGetValue(host, out var processes)) _hosts[host] = processes = [];
        if (!processes.TryGetValue(pid, out var sample)) processes[pid] = sample = new Sample(host, pid);
        sample.Name = name;
        sample.CpuRatio = cpuRatio;
        sample.ResidentBytes = residentBytes;
        sample.MatchesFilter = matchesFilter;
        sample.SeenMs = nowMs;
    }

    /// <summary>Processes known right now, selected or not.</summary>
    public int Known
    {
        get
        {
            int n = 0;
            foreach (var processes in _hosts.Values) n += processes.Count;
            return n;
        }
    }

    public void Publish(SeriesTable<Gauge.Child> cpu, SeriesTable<Gauge.Child> memory, long nowMs)
    {
        foreach (var (host, processes) in _hosts)
        {
            _ranked.Clear();
            foreach (var (pid, sample) in processes)
            {
                if (nowMs - sample.SeenMs >= stalenessMs)
                {
                    Unexport(sample, cpu, memory);
                    _gone.Add(pid);
                }
                else
                {
                    _ranked.Add(sample);
                }
            }
            foreach (var pid in _gone) processes.Remove(pid);
            _gone.Clear();
            if (processes.Count == 0) _emptyHosts.Add(host);

            _ranked.Sort(ByCpuDescending);
            for (int i = 0; i < _ranked.Count; i++)
            {
                var sample = _ranked[i];
                if (i < topN || sample.MatchesFilter) Export(sample, cpu, memory, nowMs);
                else Unexport(sample, cpu, memory);
            }
        }
        foreach (var host in _emptyHosts) _hosts.Remove(host);
        _emptyHosts.Clear();
    }

    private static void Export(Sample sample, SeriesTable<Gauge.Child> cpu, SeriesTable<Gauge.Child> memory, long nowMs)
    {
        // A process that exec'd another program keeps its pid but changes name: its old series must go.
        if (sample.Exported is { } old && old.B != sample.Name) Unexport(sample, cpu, memory);
        var key = new SeriesKey(sample.Host, sample.Name, sample.PidLabel);
        var cpuChild = cpu.Touch(key, nowMs);
        var memoryChild = memory.Touch(key, nowMs);
        cpuChild?.Set(sample.CpuRatio);
        memoryChild?.Set(sample.ResidentBytes);
        sample.Exported = cpuChild is null && memoryChild is null ? null : key;
    }

    private static void Unexport(Sample sample, SeriesTable<Gauge.Child> cpu, SeriesTable<Gauge.Child> memory)
    {
        if (sample.Exported is not { } key) return;
        cpu.Remove(key);
        memory.Remove(key);
        sample.Exported = null;
    }

    // Highest CPU first; the pid breaks ties so the selection does not flap between equal processes.
    private static int ByCpuDescending(Sample a, Sample b)
    {
        int byCpu = b.CpuRatio.CompareTo(a.CpuRatio);
        return byCpu != 0 ? byCpu : a.Pid.CompareTo(b.Pid);
    }

    private sealed class Sample(string host, int pid)
    {
        public string Host { get; } = host;
        public int Pid { get; } = pid;
        public string PidLabel { get; } = pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        public string Name { get; set; } = "";
        public double CpuRatio { get; set; }
        public double ResidentBytes { get; set; }
        public bool MatchesFilter { get; set; }
        public long SeenMs { get; set; }
        public SeriesKey? Exported { get; set; }
    }
}
