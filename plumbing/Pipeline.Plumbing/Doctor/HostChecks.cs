using Pipeline.Plumbing.Config;

namespace Pipeline.Plumbing.Doctor;

/// <summary>What the host offers the agent: a writable data dir, /proc, /dev/kmsg, cgroup v2.</summary>
public static class HostChecks
{
    public static CheckResult DataDir(PipelineConfig config)
    {
        const string Check = "data dir";
        var dir = Path.GetFullPath(config.DataDir);
        if (!Directory.Exists(dir))
        {
            // The agent creates it on start: the nearest existing parent has to let it.
            var parent = Path.GetDirectoryName(dir);
            while (parent is not null && !Directory.Exists(parent) && !File.Exists(parent)) parent = Path.GetDirectoryName(parent);
            if (parent is not null && File.Exists(parent))
                return CheckResult.Fail(Check, $"{dir} cannot be created: {parent} is a file", "set data_dir to a directory path");
            return parent is not null && CanWriteIn(parent, out _)
                ? CheckResult.Ok(Check, $"{dir} does not exist yet; it will be created (in {parent})")
                : CheckResult.Fail(Check, $"{dir} does not exist and cannot be created", $"mkdir -p {dir} && chown pipeline:pipeline {dir}");
        }
        return CanWriteIn(dir, out var error)
            ? CheckResult.Ok(Check, $"{dir} is writable")
            : CheckResult.Fail(Check, $"{dir} is not writable: {error}", $"chown -R pipeline:pipeline {dir} (or set data_dir to a directory this user owns)");
    }

    private static bool CanWriteIn(string dir, out string? error)
    {
        var probe = Path.Combine(dir, $".doctor-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            error = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>/proc readable, and whether hidepid hides other users' processes.</summary>
    public static CheckResult Proc(string procRoot = "/proc")
    {
        const string Check = "/proc";
        string mountOptions;
        try
        {
            _ = File.ReadAllText(Path.Combine(procRoot, "self", "stat"));
            mountOptions = File.ReadLines(Path.Combine(procRoot, "self", "mounts"))
                .Select(l => l.Split(' '))
                .LastOrDefault(f => f.Length > 3 && f[1] == procRoot && f[2] == "proc")?[3] ?? "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return CheckResult.Fail(Check, $"cannot read {procRoot}: {e.Message}", "mount proc (mount -t proc proc /proc)");
        }
        var hidepid = mountOptions.Split(',').FirstOrDefault(o => o.StartsWith("hidepid=", StringComparison.Ordinal));
        if (hidepid is not null && hidepid is not ("hidepid=0" or "hidepid=off"))
        {
            return CheckResult.Warn(Check, $"readable, but mounted with {hidepid}: other users' processes are hidden from process sampling",
                "add the pipeline user to the group named by the proc mount's gid= option, or remount without hidepid");
        }
        return CheckResult.Ok(Check, "readable; every process visible (no hidepid)");
    }

    /// <summary>/dev/kmsg: where OOM kills are read from.</summary>
    public static CheckResult Kmsg(string path = "/dev/kmsg")
    {
        const string Check = "/dev/kmsg";
        if (!File.Exists(path))
            return CheckResult.Warn(Check, $"{path} does not exist (a container?): OOM kills will not be seen", "run the agent on the host, or pass /dev/kmsg into the container");
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            return CheckResult.Ok(Check, "readable");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return CheckResult.Warn(Check, $"not readable ({e.Message}): OOM kills will not be seen",
                "grant CAP_SYSLOG (the systemd unit does: AmbientCapabilities=CAP_SYSLOG), or sysctl kernel.dmesg_restrict=0");
        }
    }

    /// <summary>cgroup v2 (the unified hierarchy): where per-service labels for processes come from.</summary>
    public static CheckResult CgroupV2(string cgroupRoot = "/sys/fs/cgroup")
    {
        const string Check = "cgroup v2";
        return File.Exists(Path.Combine(cgroupRoot, "cgroup.controllers"))
            ? CheckResult.Ok(Check, $"unified hierarchy at {cgroupRoot}")
            : CheckResult.Warn(Check, $"no cgroup v2 at {cgroupRoot} (cgroup v1 or none): processes get no systemd unit or container labels",
                "boot with systemd.unified_cgroup_hierarchy=1 (the default since Debian 11)");
    }
}
