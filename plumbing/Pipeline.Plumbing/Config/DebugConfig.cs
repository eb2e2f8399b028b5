namespace Pipeline.Plumbing.Config;

/// <summary><c>[debug]</c>: the diagnostics endpoint, <c>/internal/debug/</c>. Off by default.</summary>
public sealed class DebugConfig
{
    public bool Enabled { get; set; }

    /// <summary>Its own address, never the metrics port. Default <c>127.0.0.1:9465</c>.</summary>
    public string Listen { get; set; } = "127.0.0.1:9465";

    /// <summary>Bearer token every request must carry (use <c>${env:NAME}</c>). Required when enabled.</summary>
    [Secret] public string Token { get; set; } = "";

    /// <summary>Client addresses allowed, as CIDRs. Default loopback only.</summary>
    public List<string> Allow { get; set; } = ["127.0.0.1/32", "::1/128"];

    /// <summary>Requests per minute per client address. Default 3.</summary>
    public int RateLimit { get; set; } = 3;

    /// <summary>Where <c>POST /internal/debug/dump</c> writes process dumps. Default <c>data_dir/dumps</c>.</summary>
    public string DumpDir { get; set; } = "";

    /// <summary>Allow full heap dumps (heavy: pauses the process and writes its whole memory). Default false.</summary>
    public bool AllowHeapDump { get; set; }
}
