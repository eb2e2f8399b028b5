using Pipeline.Testing;

namespace Pipeline.Tests.Deploy;

/// <summary>
/// deploy/systemd/pipeline-agent.service, checked by systemd's own parser (<c>systemd-analyze verify</c>)
/// and against what the agent relies on. No systemd runs as PID 1 here, so the unit is never started.
/// </summary>
public class SystemdUnitTests
{
    private static readonly string UnitPath = Path.Combine(RepositoryRoot.Path, "deploy", "systemd", "pipeline-agent.service");

    /// <summary>The [Service] keys and values, in order (a key can repeat).</summary>
    private static List<(string Key, string Value)> ServiceSettings()
    {
        var settings = new List<(string, string)>();
        string section = "";
        foreach (var raw in File.ReadAllLines(UnitPath))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith('[')) { section = line; continue; }
            int eq = line.IndexOf('=');
            if (section == "[Service]" && eq > 0) settings.Add((line[..eq], line[(eq + 1)..]));
        }
        return settings;
    }

    private static string Value(string key) => ServiceSettings().Single(s => s.Key == key).Value;

    [Fact]
    public async Task SystemdAnalyzeVerifyAcceptsTheUnitWithoutAWarning()
    {
        if (Peers.MissingReason("systemd-analyze", "systemd") is { } reason) { Assert.Skip(reason); return; }
        // verify also checks that ExecStart's binary exists, so lay out a scratch root holding the unit, a
        // stand-in /usr/bin/pipeline and systemd's own units (sysinit.target and friends).
        using var root = new TempDirectory("systemd-root");
        Directory.CreateDirectory(root.File("etc/systemd/system"));
        Directory.CreateDirectory(root.File("usr/bin"));
        Directory.CreateDirectory(root.File("bin"));
        File.Copy(UnitPath, root.File("etc/systemd/system/pipeline-agent.service"));
        File.Copy("/bin/true", root.File("usr/bin/pipeline"));
        File.Copy("/bin/kill", root.File("bin/kill"));
        var systemUnits = Directory.Exists("/usr/lib/systemd/system") ? "/usr/lib/systemd/system" : "/lib/systemd/system";
        Directory.CreateDirectory(root.File("usr/lib/systemd"));
        var copy = await Peers.RunAsync("cp", ["-r", systemUnits, root.File("usr/lib/systemd/")]);
        Assert.True(copy.ExitCode == 0, copy.ToString());

        var r = await Peers.RunAsync("systemd-analyze", ["verify", $"--root={root.Path}", "pipeline-agent.service"]);
        // verify exits 0 on unknown keys and only prints them: a warning counts as a failure here.
        Assert.True(r.ExitCode == 0 && r.Stderr.Trim().Length == 0 && r.Stdout.Trim().Length == 0, r.ToString());
    }

    [Fact]
    public void TheAgentReportsReadinessAndIsWatchedAndRestarted()
    {
        Assert.Equal("notify", Value("Type"));
        Assert.Equal("main", Value("NotifyAccess"));
        Assert.Equal("on-failure", Value("Restart"));
        Assert.Equal("2", Value("RestartPreventExitStatus")); // a config error: restarting cannot fix it
        Assert.Equal("/bin/kill -HUP $MAINPID", Value("ExecReload"));
        Assert.StartsWith("/usr/bin/pipeline agent ", Value("ExecStart"));
        Assert.True(Seconds(Value("WatchdogSec")) >= 20, "the tailer's loop must have room to turn several times per watchdog interval");
    }

    [Fact]
    public void SystemdWaitsLongerThanTheHostTakesToFlushOnStop()
    {
        // StageHost gives the host 60 s (HostOptions.ShutdownTimeout) to flush and save offsets.
        Assert.True(Seconds(Value("TimeoutStopSec")) > 60, $"TimeoutStopSec={Value("TimeoutStopSec")} would SIGKILL a clean shutdown");
    }

    [Fact]
    public void TheAgentRunsUnprivilegedWithOnlyTheCapabilitiesItsInputsNeed()
    {
        Assert.Equal("pipeline", Value("User"));
        Assert.Equal("yes", Value("NoNewPrivileges"));
        Assert.Equal("strict", Value("ProtectSystem"));
        Assert.Equal("/var/lib/pipeline", Value("ReadWritePaths"));
        Assert.Equal("read-only", Value("ProtectHome"));
        Assert.Equal("yes", Value("PrivateTmp"));
        Assert.Equal(["CAP_DAC_READ_SEARCH", "CAP_SYSLOG"], Value("CapabilityBoundingSet").Split(' ').Order());
        Assert.Equal(["CAP_DAC_READ_SEARCH", "CAP_SYSLOG"], Value("AmbientCapabilities").Split(' ').Order());
        // These would hide what the agent reads: /dev/kmsg and other users' processes.
        Assert.DoesNotContain(ServiceSettings(), s => s.Key is "ProtectKernelLogs" or "ProtectProc" or "MemoryDenyWriteExecute");
    }

    [Fact]
    public void EverySettingSaysWhyItIsThere()
    {
        // Each [Service] setting is under a comment block, shared at most by the few settings that belong together.
        int sinceComment = 0;
        var uncommented = new List<string>();
        string section = "";
        foreach (var raw in File.ReadAllLines(UnitPath))
        {
            var line = raw.Trim();
            if (line.StartsWith('#')) { sinceComment = 0; continue; }
            if (line.StartsWith('[')) { section = line; sinceComment = 0; continue; }
            if (section != "[Service]" || line.Length == 0) continue;
            if (++sinceComment > 5) uncommented.Add(line);
        }
        Assert.Empty(uncommented);
    }

    private static double Seconds(string value) => value.EndsWith('s') ? double.Parse(value[..^1], System.Globalization.CultureInfo.InvariantCulture)
        : value.EndsWith("min", StringComparison.Ordinal) ? 60 * double.Parse(value[..^3], System.Globalization.CultureInfo.InvariantCulture)
        : double.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
}
