using System.Text.RegularExpressions;
using Pipeline.Plumbing.Expressions;

namespace Pipeline.Plumbing.Config;

/// <summary>Checks of meaning for <c>[[probes]]</c> and <c>[probe_runner]</c>, each error at the key it is about.</summary>
internal static class ProbeConfigValidator
{
    private static readonly string[] Severities = ["info", "warning", "critical"];
    private static readonly string[] Methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];

    public static void Validate(LoadedConfig loaded, List<ConfigError> errors)
    {
        var c = loaded.Config;
        void Fail(string path, string message) => errors.Add(new ConfigError(loaded.LocationOf(path), message));

        if (c.ProbeRunner.Concurrency is < 1 or > 1024) Fail("probe_runner.concurrency", "'probe_runner.concurrency' must be 1-1024");

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < c.Probes.Count; i++)
        {
            var probe = c.Probes[i];
            var p = $"probes[{i}]";
            if (string.IsNullOrWhiteSpace(probe.Name)) { Fail(p, $"[[probes]] #{i + 1} has no 'name'"); continue; }
            var what = $"probe \"{probe.Name}\"";
            if (!IsSimpleName(probe.Name)) Fail($"{p}.name", $"{what}: the name may hold only letters, digits, '-', '_' and '.'");
            if (!names.Add(probe.Name)) Fail($"{p}.name", $"{what}: the name is used twice");
            if (!ProbeConfig.Types.Contains(probe.Type))
            {
                Fail(probe.Type.Length == 0 ? p : $"{p}.type", $"{what}: unknown type \"{probe.Type}\"; valid types: {string.Join(", ", ProbeConfig.Types)}");
                continue;
            }
            CheckDuration(loaded, errors, $"{p}.interval", probe.Interval);
            CheckDuration(loaded, errors, $"{p}.timeout", probe.Timeout);
            if (probe.FailureThreshold < 1) Fail($"{p}.failure_threshold", $"{what}: 'failure_threshold' must be at least 1");
            if (probe.SuccessThreshold < 1) Fail($"{p}.success_threshold", $"{what}: 'success_threshold' must be at least 1");
            if (Array.IndexOf(Severities, probe.Severity) < 0) Fail($"{p}.severity", $"{what}: severity \"{probe.Severity}\" must be info, warning or critical");
            if (probe.Condition.Length > 0 && !IsConditionType(probe.Condition))
                Fail($"{p}.condition", $"{what}: condition \"{probe.Condition}\" must be a NodeCondition type such as DiskPressure (letters and digits, starting with a letter)");
            if (probe.Type != "exec" && probe.Argv.Count > 0) Fail($"{p}.argv", $"{what}: 'argv' is only for type \"exec\"; use 'target'");
            CheckType(probe, p, what, loaded, errors);
        }
    }

    private static void CheckType(ProbeConfig probe, string p, string what, LoadedConfig loaded, List<ConfigError> errors)
    {
        void Fail(string path, string message) => errors.Add(new ConfigError(loaded.LocationOf(path), message));
        string target = $"{p}.target";
        switch (probe.Type)
        {
            case "disk" or "readonly_fs":
                if (probe.Target.Length > 0 && !Path.IsPathFullyQualified(probe.Target)) Fail(target, $"{what}: target \"{probe.Target}\" must be an absolute mount path such as /var/lib");
                if (probe.MaxUsedPct is <= 0 or > 100) Fail($"{p}.max_used_pct", $"{what}: 'max_used_pct' must be above 0 and at most 100");
                if (probe.MaxInodePct is <= 0 or > 100) Fail($"{p}.max_inode_pct", $"{what}: 'max_inode_pct' must be above 0 and at most 100");
                break;
            case "memory":
                if (probe.MinAvailablePct is < 0 or > 100) Fail($"{p}.min_available_pct", $"{what}: 'min_available_pct' must be 0-100");
                if (probe.MaxPressurePct is < 0 or > 100) Fail($"{p}.max_pressure_pct", $"{what}: 'max_pressure_pct' must be 0 (off) to 100");
                break;
            case "load":
                if (probe.MaxLoadPerCore <= 0) Fail($"{p}.max_load_per_core", $"{what}: 'max_load_per_core' must be above 0");
                break;
            case "dns":
                if (probe.Target.Length == 0 || Uri.CheckHostName(probe.Target) == UriHostNameType.Unknown)
                    Fail(probe.Target.Length == 0 ? p : target, $"{what}: target \"{probe.Target}\" must be a host name to resolve, e.g. kubernetes.default.svc");
                if (probe.ExpectAddress.Length > 0 && !System.Net.IPAddress.TryParse(probe.ExpectAddress, out _))
                    Fail($"{p}.expect_address", $"{what}: expect_address \"{probe.ExpectAddress}\" is not an IP address");
                break;
            case "http":
                if (!(Uri.TryCreate(probe.Target, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
                    Fail(probe.Target.Length == 0 ? p : target, $"{what}: target \"{probe.Target}\" is not an http(s) URL");
                if (Array.IndexOf(Methods, probe.Method) < 0) Fail($"{p}.method", $"{what}: method \"{probe.Method}\" must be one of {string.Join(" ", Methods)}");
                if (probe.ExpectStatus is < 100 or > 599) Fail($"{p}.expect_status", $"{what}: 'expect_status' must be an HTTP status 100-599");
                CheckRegex(probe.BodyRegex, $"{p}.body_regex", what, loaded, errors);
                if (probe.MaxLatency.Length > 0) CheckDuration(loaded, errors, $"{p}.max_latency", probe.MaxLatency);
                break;
            case "tcp":
                if (!ConfigValidator.TryParseHostPort(probe.Target, out _, out _))
                    Fail(probe.Target.Length == 0 ? p : target, $"{what}: target \"{probe.Target}\" must be host:port, e.g. 127.0.0.1:5432");
                break;
            case "process":
                if (probe.Target.Length == 0) { Fail(p, $"{what}: target must be a filter such as 'name == \"sshd\"'"); break; }
                try { Expression.Parse(probe.Target); }
                catch (ExpressionException e)
                {
                    var at = loaded.LocationOf(target);
                    errors.Add(new ConfigError(at.Line > 0 ? at with { Column = at.Column + 1 + e.Position } : at, $"{what}: target: {e.Message}"));
                }
                if (probe.MinCount < 0) Fail($"{p}.min_count", $"{what}: 'min_count' must be 0 or more");
                break;
            case "file":
                if (!Path.IsPathFullyQualified(probe.Target)) Fail(probe.Target.Length == 0 ? p : target, $"{what}: target \"{probe.Target}\" must be an absolute file path");
                if (probe.MaxAge.Length > 0) CheckDuration(loaded, errors, $"{p}.max_age", probe.MaxAge);
                break;
            case "exec":
                if (probe.Argv.Count == 0) Fail(p, $"{what}: exec needs argv = [\"/absolute/path\", \"arg\", ...] (it is run without a shell)");
                else if (!Path.IsPathFullyQualified(probe.Argv[0]))
                    Fail($"{p}.argv[0]", $"{what}: argv[0] \"{probe.Argv[0]}\" must be an absolute path (no shell and no PATH lookup), e.g. /usr/bin/{Path.GetFileName(probe.Argv[0])}");
                if (probe.Target.Length > 0) Fail(target, $"{what}: exec takes 'argv', not 'target'");
                if (probe.MaxOutputBytes is < 1 or > 65536) Fail($"{p}.max_output_bytes", $"{what}: 'max_output_bytes' must be 1-65536 (the message must fit a Kafka record)");
                break;
            case "kmsg":
                if (probe.Target.Length > 0 && !Path.IsPathFullyQualified(probe.Target)) Fail(target, $"{what}: target \"{probe.Target}\" must be an absolute path (default /dev/kmsg)");
                foreach (var (reason, pattern) in probe.Patterns)
                {
                    if (!IsConditionType(reason)) Fail($"{p}.patterns.{reason}", $"{what}: pattern name \"{reason}\" becomes the reason; use letters and digits, e.g. OOMKilling");
                    CheckRegex(pattern, $"{p}.patterns.{reason}", what, loaded, errors);
                }
                break;
        }
    }

    private static void CheckRegex(string pattern, string path, string what, LoadedConfig loaded, List<ConfigError> errors)
    {
        if (pattern.Length == 0) return;
        try { _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
        catch (ArgumentException e) { errors.Add(new ConfigError(loaded.LocationOf(path), $"{what}: '{pattern}' is not a valid regex: {e.Message}")); }
    }

    private static void CheckDuration(LoadedConfig loaded, List<ConfigError> errors, string path, string value)
    {
        if (!Duration.TryParse(value, out var d)) errors.Add(new ConfigError(loaded.LocationOf(path), $"'{path}' = \"{value}\" is not a duration; write e.g. 500ms, 30s, 5m, 1h"));
        else if (d <= TimeSpan.Zero) errors.Add(new ConfigError(loaded.LocationOf(path), $"'{path}' must be longer than 0"));
    }

    private static bool IsSimpleName(string name)
    {
        foreach (var ch in name)
        {
            // '.' lets the operator name a NodeProbe's probe namespace.nodeprobe.probe.
            if (!char.IsAsciiLetterOrDigit(ch) && ch is not ('-' or '_' or '.')) return false;
        }
        return true;
    }

    /// <summary>NodeCondition types are CamelCase words by convention (Ready, DiskPressure, KernelDeadlock).</summary>
    internal static bool IsConditionType(string name)
    {
        if (name.Length == 0 || !char.IsAsciiLetter(name[0])) return false;
        foreach (var ch in name)
        {
            if (!char.IsAsciiLetterOrDigit(ch)) return false;
        }
        return true;
    }
}
