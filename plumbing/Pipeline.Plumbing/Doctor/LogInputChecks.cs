using Microsoft.Extensions.FileSystemGlobbing;
using Pipeline.Plumbing.Config;

namespace Pipeline.Plumbing.Doctor;

/// <summary>
/// Every <c>paths</c> glob of every log input matches at least one file this user can read. Files that
/// match but cannot be opened are named one by one: the tailer would only log a warning per file.
/// </summary>
public static class LogInputChecks
{
    /// <summary>What the log tailer tails when no <c>[[logs.inputs]]</c> is configured.</summary>
    public static readonly IReadOnlyList<string> DefaultPaths = ["/var/log/*.log", "/var/log/syslog"];

    private const int NamedAtMost = 5;

    public static IEnumerable<CheckResult> Check(PipelineConfig config)
    {
        var inputs = config.Logs.Inputs.Count > 0
            ? config.Logs.Inputs
            : [new LogInputConfig { Paths = [.. DefaultPaths] }];
        foreach (var input in inputs)
        {
            foreach (var pattern in input.Paths) yield return CheckPattern(pattern, input.Exclude);
        }
    }

    public static CheckResult CheckPattern(string pattern, IReadOnlyList<string> exclude)
    {
        var check = $"logs {pattern}";
        var full = Path.GetFullPath(pattern);
        var (root, relative) = SplitAtFirstWildcard(full);
        if (!Directory.Exists(root))
            return CheckResult.Fail(check, $"{root} does not exist", "fix the path in [[logs.inputs]] paths, or create the directory");
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(relative);
        foreach (var e in exclude) matcher.AddExclude(Path.IsPathRooted(e) ? Path.GetRelativePath(root, e) : "**/" + e);
        List<string> files;
        try
        {
            files = matcher.GetResultsInFullPath(root).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return CheckResult.Fail(check, $"cannot list a directory: {e.Message}", "grant CAP_DAC_READ_SEARCH (the systemd unit does) or add the user to the directory's group");
        }
        if (files.Count == 0)
            return CheckResult.Fail(check, "matches no file", "check the glob (`**` for any depth); files created later are picked up, so this may be fine on a fresh host");

        var unreadable = new List<string>();
        foreach (var file in files)
        {
            try
            {
                using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                unreadable.Add($"{file} ({ModeOf(file)})");
            }
        }
        if (unreadable.Count == 0) return CheckResult.Ok(check, $"{files.Count} file(s), all readable");
        var named = string.Join(", ", unreadable.Take(NamedAtMost)) + (unreadable.Count > NamedAtMost ? $" and {unreadable.Count - NamedAtMost} more" : "");
        return CheckResult.Fail(check, $"{unreadable.Count} of {files.Count} file(s) not readable by this user: {named}",
            "run with CAP_DAC_READ_SEARCH (the systemd unit does), or add the user to the files' group (often adm)");
    }

    private static string ModeOf(string file)
    {
        if (OperatingSystem.IsWindows()) return "mode unknown";
        try
        {
            var mode = File.GetUnixFileMode(file);
            return "mode " + Convert.ToString((int)mode, 8).PadLeft(4, '0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "mode unknown";
        }
    }

    /// <summary><c>/var/log/**/*.log</c> -> (<c>/var/log</c>, <c>**/*.log</c>): the matcher needs a directory to start from.</summary>
    internal static (string Root, string Relative) SplitAtFirstWildcard(string fullPattern)
    {
        var parts = fullPattern.Split('/');
        int firstGlob = Array.FindIndex(parts, p => p.IndexOfAny(['*', '?', '[', '{']) >= 0);
        if (firstGlob < 0) firstGlob = parts.Length - 1;
        var root = string.Join('/', parts, 0, firstGlob);
        return (root.Length == 0 ? "/" : root, string.Join('/', parts, firstGlob, parts.Length - firstGlob));
    }
}
