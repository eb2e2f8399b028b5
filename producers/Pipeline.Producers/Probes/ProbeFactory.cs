using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Probes;

/// <summary>The one list of probe types: <c>type</c> in config to the check that runs it. Config is validated before this.</summary>
public static class ProbeFactory
{
    public static IProbe Create(ProbeConfig config) => config.Type switch
    {
        "disk" => new DiskProbe(config),
        "readonly_fs" => new ReadOnlyFsProbe(config),
        "memory" => new MemoryProbe(config),
        "load" => new LoadProbe(config),
        "dns" => new DnsProbe(config),
        "http" => new HttpProbe(config),
        "tcp" => new TcpProbe(config),
        "process" => new ProcessProbe(config),
        "file" => new FileProbe(config),
        "exec" => new ExecProbe(config),
        "kmsg" => new KmsgProbe(config),
        _ => throw new ArgumentException($"unknown probe type \"{config.Type}\"; valid types: {string.Join(", ", ProbeConfig.Types)}", nameof(config)),
    };

    public static List<ScheduledProbe> CreateAll(IEnumerable<ProbeConfig> configs) => [.. configs.Select(c => new ScheduledProbe(c, Create(c)))];
}
