using System.IO.Hashing;
using System.Text;

namespace Pipeline.Producers.Process;

/// <summary>What a process's cgroup says about where it runs.</summary>
public sealed record CgroupInfo(
    string Path,
    string? UnifiedPath,
    string? SystemdUnit,
    string? ContainerId,
    string? ContainerRuntime,
    string? PodUid)
{
    public static readonly CgroupInfo Root = new("/", "/", null, null, null, null);
}

/// <summary>
/// Reads <c>/proc/PID/cgroup</c> into labels: the cgroup path, the systemd unit, the container id
/// and runtime (docker, containerd, cri-o, podman) and the Kubernetes pod UID. Every runtime names
/// its cgroups differently, with the systemd and the cgroupfs drivers differing again:
/// <code>
/// docker      /docker/ID                             /system.slice/docker-ID.scope
/// containerd  /default/ID (nerdctl)                  .../cri-containerd-ID.scope, /system.slice/nerdctl-ID.scope
/// cri-o       .../crio-ID                            .../crio-ID.scope
/// podman      /libpod_parent/libpod-ID               /machine.slice/libpod-ID.scope
/// kubernetes  /kubepods/burstable/podUID/ID          /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podUID_WITH_UNDERSCORES.slice/...
/// </code>
/// Most processes share a few cgroups, so results are cached by the file's bytes.
/// </summary>
public sealed class CgroupLabels
{
    private const int MaxCached = 4096;
    private readonly Dictionary<ulong, (byte[] Raw, CgroupInfo Info)> _cache = [];

    /// <summary>The labels for a <c>/proc/PID/cgroup</c> file's content; allocation-free when it was seen before.</summary>
    public CgroupInfo Lookup(ReadOnlySpan<byte> raw)
    {
        ulong hash = XxHash3.HashToUInt64(raw);
        if (_cache.TryGetValue(hash, out var hit) && raw.SequenceEqual(hit.Raw)) return hit.Info;
        var info = Parse(Encoding.UTF8.GetString(raw));
        if (_cache.Count >= MaxCached) _cache.Clear();
        _cache[hash] = (raw.ToArray(), info);
        return info;
    }

    public static CgroupInfo Parse(string content)
    {
        string? unified = null, systemd = null, memory = null, first = null;
        string? containerId = null, runtime = null, podUid = null;
        foreach (var rawLine in content.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // hierarchy-ID:controller-list:cgroup-path; the path may itself hold ':'.
            int a = rawLine.IndexOf(':');
            int b = a < 0 ? -1 : rawLine.IndexOf(':', a + 1);
            if (b < 0) continue;
            var controllers = rawLine[(a + 1)..b];
            var path = rawLine[(b + 1)..];
            if (rawLine.StartsWith("0::", StringComparison.Ordinal)) unified = path;
            else if (controllers == "name=systemd") systemd = path;
            else if (controllers.Split(',').Contains("memory")) memory = path;
            first ??= path;
            if (containerId is null) FindContainer(path, out containerId, out runtime);
            podUid ??= FindPodUid(path);
        }
        // On a pure cgroup v2 host the unified path is the one; on a hybrid host it is "/" and the
        // systemd or memory hierarchy tells more.
        var best = unified is not null && (unified != "/" || (systemd is null && memory is null)) ? unified
            : systemd is not null && systemd != "/" ? systemd
            : memory ?? unified ?? first ?? "/";
        return new CgroupInfo(best, unified, FindUnit(best), containerId, runtime, podUid);
    }

    private static void FindContainer(string path, out string? id, out string? runtime)
    {
        id = null;
        runtime = null;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = segments.Length - 1; i >= 0; i--)
        {
            var s = segments[i];
            if (s.EndsWith(".scope", StringComparison.Ordinal)) s = s[..^6];
            // The conmon monitor of cri-o and podman sits next to the container; it is not the container.
            if (s.Contains("conmon", StringComparison.Ordinal)) return;
            (string Prefix, string? Runtime)[] prefixes =
            [
                ("docker-", "docker"), ("cri-containerd-", "containerd"), ("nerdctl-", "containerd"),
                ("crio-", "cri-o"), ("libpod-", "podman"),
            ];
            foreach (var (prefix, name) in prefixes)
            {
                if (s.StartsWith(prefix, StringComparison.Ordinal) && IsContainerId(s.AsSpan(prefix.Length)))
                {
                    id = s[prefix.Length..];
                    runtime = name;
                    return;
                }
            }
            if (IsContainerId(s))
            {
                id = s;
                var parent = i > 0 ? segments[i - 1] : "";
                runtime = parent switch
                {
                    "docker" => "docker",
                    "libpod_parent" => "podman",
                    // Under a Kubernetes pod with the cgroupfs driver, a bare id is containerd's or docker's: unknown.
                    _ when parent.StartsWith("pod", StringComparison.Ordinal) => null,
                    // nerdctl's cgroupfs driver nests containers under their containerd namespace.
                    "default" or "k8s.io" or "moby" => "containerd",
                    _ => null,
                };
                return;
            }
        }
    }

    private static bool IsContainerId(ReadOnlySpan<char> s)
    {
        if (s.Length != 64) return false;
        foreach (var c in s)
        {
            if (!char.IsAsciiHexDigitLower(c)) return false;
        }
        return true;
    }

    private static string? FindPodUid(string path)
    {
        int at = 0;
        while ((at = path.IndexOf("pod", at, StringComparison.Ordinal)) >= 0)
        {
            at += 3;
            // 8-4-4-4-12 hex, with '_' for '-' under the systemd driver.
            if (path.Length - at >= 36 && LooksLikeUid(path.AsSpan(at, 36))) return path.Substring(at, 36).Replace('_', '-');
        }
        return null;
    }

    private static bool LooksLikeUid(ReadOnlySpan<char> s)
    {
        for (int i = 0; i < 36; i++)
        {
            bool dash = i is 8 or 13 or 18 or 23;
            if (dash ? s[i] is not ('-' or '_') : !char.IsAsciiHexDigit(s[i])) return false;
        }
        return true;
    }

    private static string? FindUnit(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = segments.Length - 1; i >= 0; i--)
        {
            var s = segments[i];
            if (s.EndsWith(".service", StringComparison.Ordinal) || s.EndsWith(".scope", StringComparison.Ordinal)) return s;
        }
        return null;
    }
}
