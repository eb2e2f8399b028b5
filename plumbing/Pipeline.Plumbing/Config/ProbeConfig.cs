namespace Pipeline.Plumbing.Config;

/// <summary>
/// One health probe (<c>[[probes]]</c>); the same shape is a NodeProbe's <c>spec.probes[]</c> in Kubernetes.
/// The common keys come first; the rest matter only to the type named after them, and each states its default.
/// </summary>
public sealed class ProbeConfig
{
    /// <summary>The probe types the agent knows, for validation and help text.</summary>
    public static readonly IReadOnlyList<string> Types =
        ["disk", "readonly_fs", "memory", "load", "dns", "http", "tcp", "process", "file", "exec", "kmsg"];

    /// <summary>Unique name; becomes <c>probe.name</c>. Letters, digits, '-', '_' and '.'.</summary>
    public string Name { get; set; } = "";

    /// <summary>One of <see cref="Types"/>.</summary>
    public string Type { get; set; } = "";

    /// <summary>
    /// What the type checks: disk/readonly_fs a mount path (default <c>/</c>); dns a host name; http a URL;
    /// tcp <c>host:port</c>; process a filter such as <c>name == "sshd"</c>; file a path; kmsg the device
    /// (default <c>/dev/kmsg</c>). memory and load ignore it.
    /// </summary>
    public string Target { get; set; } = "";

    /// <summary>exec: the command and its arguments, run without a shell; the first must be an absolute path.</summary>
    public List<string> Argv { get; set; } = [];

    /// <summary>How often the probe runs. Default 30s.</summary>
    public string Interval { get; set; } = "30s";

    /// <summary>How long one run may take before it counts as a problem with reason <c>timeout</c>. Default 5s.</summary>
    public string Timeout { get; set; } = "5s";

    /// <summary>The NodeCondition type this probe drives, e.g. <c>DiskPressure</c> or <c>KernelDeadlock</c>. Default: none.</summary>
    public string Condition { get; set; } = "";

    /// <summary><c>info</c>, <c>warning</c> (default) or <c>critical</c>; becomes <c>event.severity</c> on problems.</summary>
    public string Severity { get; set; } = "warning";

    /// <summary>Consecutive problems before the condition turns True. Default 1.</summary>
    public int FailureThreshold { get; set; } = 1;

    /// <summary>Consecutive OK results before the condition turns False again. Default 1.</summary>
    public int SuccessThreshold { get; set; } = 1;

    /// <summary>
    /// Kubernetes only: run this probe only on nodes that carry all these labels (the operator copies a
    /// NodeProbe's nodeSelector here). Ignored outside Kubernetes (<c>probe_runner.node_name</c> empty). Default: every node.
    /// </summary>
    public Dictionary<string, string> NodeSelector { get; set; } = [];

    // ---- disk -------------------------------------------------------------------------------------------

    /// <summary>disk: problem when more than this % of the blocks a user may use is used. Default 90.</summary>
    public double MaxUsedPct { get; set; } = 90;

    /// <summary>disk: problem when more than this % of the inodes is used. Default 90.</summary>
    public double MaxInodePct { get; set; } = 90;

    // ---- memory -----------------------------------------------------------------------------------------

    /// <summary>memory: problem when MemAvailable is below this % of MemTotal. Default 10.</summary>
    public double MinAvailablePct { get; set; } = 10;

    /// <summary>memory: problem when PSI <c>some avg10</c> (where the kernel has it) is above this %. Default 0: not checked.</summary>
    public double MaxPressurePct { get; set; }

    // ---- load -------------------------------------------------------------------------------------------

    /// <summary>load: problem when the 1-minute load average divided by the cores is above this. Default 2.</summary>
    public double MaxLoadPerCore { get; set; } = 2;

    // ---- dns --------------------------------------------------------------------------------------------

    /// <summary>dns: an address the name must resolve to. Default: any address will do.</summary>
    public string ExpectAddress { get; set; } = "";

    // ---- http -------------------------------------------------------------------------------------------

    /// <summary>http: request method. Default <c>GET</c>.</summary>
    public string Method { get; set; } = "GET";

    /// <summary>http: the status the answer must have. Default 200.</summary>
    public int ExpectStatus { get; set; } = 200;

    /// <summary>http: a .NET regex the first 64 KiB of the body must match. Default: not checked.</summary>
    public string BodyRegex { get; set; } = "";

    /// <summary>http: an answer slower than this is a problem (reason <c>slow</c>). Default: not checked (only the timeout).</summary>
    public string MaxLatency { get; set; } = "";

    /// <summary>http: verify the server's certificate. Default true; turn off only for a self-signed endpoint you trust.</summary>
    public bool TlsVerify { get; set; } = true;

    // ---- process ----------------------------------------------------------------------------------------

    /// <summary>process: at least this many processes must match <c>target</c>. Default 1.</summary>
    public int MinCount { get; set; } = 1;

    // ---- file -------------------------------------------------------------------------------------------

    /// <summary>file: problem when the file's mtime is older than this. Default: only existence is checked.</summary>
    public string MaxAge { get; set; } = "";

    // ---- exec -------------------------------------------------------------------------------------------

    /// <summary>exec: bytes of the command's output kept for the message (at most 65536); the rest is read and dropped. Default 4096.</summary>
    public int MaxOutputBytes { get; set; } = 4096;

    // ---- kmsg -------------------------------------------------------------------------------------------

    /// <summary>
    /// kmsg: reason = .NET regex over kernel messages (<c>patterns = { OOMKilling = "Killed process \\d+" }</c>).
    /// Default: node-problem-detector's kernel monitor set (OOM kill, hung task, read-only remount, NIC link down, oops).
    /// </summary>
    public Dictionary<string, string> Patterns { get; set; } = [];
}

/// <summary>How the agent runs its probes (<c>[probe_runner]</c>).</summary>
public sealed class ProbeRunnerConfig
{
    /// <summary>Most probes running at the same moment. Default 16.</summary>
    public int Concurrency { get; set; } = 16;

    /// <summary>
    /// Kubernetes node whose conditions this agent patches (usually <c>"${env:NODE_NAME}"</c> from the downward API).
    /// Default empty: no node conditions are written.
    /// </summary>
    public string NodeName { get; set; } = "";
}
