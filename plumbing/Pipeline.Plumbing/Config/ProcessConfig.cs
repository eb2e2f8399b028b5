namespace Pipeline.Plumbing.Config;

/// <summary>
/// <c>[process]</c>: the process collector behind <c>pipeline ps</c> and the process producer in
/// <c>pipeline agent</c>/<c>pipeline run</c>.
/// </summary>
public sealed class ProcessConfig
{
    public const string SampleAll = "all";
    public const string SampleTop = "top";

    /// <summary>Publish process samples and events to <c>ops.process.v1</c> from the agent. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the selected processes are sampled and published (<c>event.kind=metric</c>). Default 10s.</summary>
    public string Interval { get; set; } = "10s";

    /// <summary>How often, between samples, <c>/proc</c> is checked for processes that started or exited and the OOM sources are read. Default 1s.</summary>
    public string ScanInterval { get; set; } = "1s";

    /// <summary>Which processes a sample publishes: <c>"all"</c> (default) or <c>"top"</c> (the <c>top_n</c> by <c>top_by</c>).</summary>
    public string Sample { get; set; } = SampleAll;

    /// <summary>With <c>sample = "top"</c>: how many processes. Default 20.</summary>
    public int TopN { get; set; } = 20;

    /// <summary>With <c>sample = "top"</c>: <c>"cpu"</c> (default) or <c>"memory"</c>.</summary>
    public string TopBy { get; set; } = "cpu";

    /// <summary>
    /// Only processes matching this filter are sampled and get start/exit events, e.g.
    /// <c>user != "root" and rss &gt; 100MiB</c>. OOM kills are always published. Default: every process.
    /// </summary>
    public string Where { get; set; } = "true";

    /// <summary><c>pipeline ps</c> highlights processes using more than this percent of one core. Default 50.</summary>
    public double CpuHighlight { get; set; } = 50;

    /// <summary>
    /// Most bytes the on-disk spool (<c>data_dir/spool/process</c>) may hold while Kafka is unreachable.
    /// Past it the oldest samples are dropped first; OOM events are kept. Default 67108864 (64 MiB).
    /// </summary>
    public long SpoolMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Where procfs is mounted; for an agent in a container, mount the host's <c>/proc</c> and point here. Default <c>/proc</c>.</summary>
    public string ProcRoot { get; set; } = "/proc";

    /// <summary>Label rules (<c>[[process.labels]]</c>): every process a rule matches gets its <c>set</c> labels. Later rules win.</summary>
    public List<ProcessLabelRule> Labels { get; set; } = [];
}

/// <summary>
/// One <c>[[process.labels]]</c> rule. Every match field given must match (empty fields match anything):
/// <code>[[process.labels]]
/// cmdline = "java .*-jar /srv/billing"
/// set = { app = "billing", team = "payments" }</code>
/// </summary>
public sealed class ProcessLabelRule
{
    /// <summary>Process name (<c>comm</c>, at most 15 characters), matched exactly. Default: any.</summary>
    public string Name { get; set; } = "";

    /// <summary>Regular expression searched for in the full command line. Default: any.</summary>
    public string Cmdline { get; set; } = "";

    /// <summary>User name or numeric uid, matched exactly. Default: any.</summary>
    public string User { get; set; } = "";

    /// <summary>Regular expression searched for in the cgroup path, e.g. <c>^/system.slice/nginx</c>. Default: any.</summary>
    public string Cgroup { get; set; } = "";

    /// <summary>Labels to set, e.g. <c>set = { app = "web" }</c>.</summary>
    public Dictionary<string, string> Set { get; set; } = [];
}
