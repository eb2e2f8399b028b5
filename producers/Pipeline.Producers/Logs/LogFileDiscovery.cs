using Microsoft.Extensions.FileSystemGlobbing;
using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Logs;

/// <summary>Turns an input's <c>paths</c> and <c>exclude</c> globs into the files that match now.</summary>
internal sealed class LogFileDiscovery
{
    private readonly List<(string Root, Matcher Matcher, bool Recursive)> _matchers = [];

    public LogFileDiscovery(LogInputConfig input)
    {
        foreach (var pattern in input.Paths)
        {
            var (root, relative) = SplitRoot(Path.GetFullPath(pattern));
            var matcher = new Matcher(StringComparison.Ordinal);
            matcher.AddInclude(relative);
            foreach (var exclude in input.Exclude)
            {
                if (Path.IsPathRooted(exclude))
                {
                    var full = Path.GetFullPath(exclude);
                    if (full.StartsWith(root + "/", StringComparison.Ordinal)) matcher.AddExclude(full[(root.Length + 1)..]);
                }
                else
                {
                    // A relative exclude ("*.gz") applies at any depth.
                    matcher.AddExclude("**/" + exclude);
                }
            }
            // A pattern with a directory part below the root ("**/*.log", "app/*.log") needs the subdirectories watched too.
            _matchers.Add((root, matcher, relative.Contains('/')));
        }
    }

    public IEnumerable<string> Files()
    {
        foreach (var (root, matcher, _) in _matchers)
        {
            if (!Directory.Exists(root)) continue;
            IEnumerable<string> found;
            try
            {
                found = matcher.GetResultsInFullPath(root);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var file in found) yield return file;
        }
    }

    /// <summary>Whether <paramref name="fullPath"/> is one of this input's files by its globs (not by what is on disk now).</summary>
    public bool Matches(string fullPath)
    {
        foreach (var (root, matcher, _) in _matchers)
        {
            var prefix = root.EndsWith('/') ? root : root + "/";
            if (fullPath.StartsWith(prefix, StringComparison.Ordinal) && matcher.Match(root, fullPath[prefix.Length..]).HasMatches) return true;
        }
        return false;
    }

    /// <summary>The directories the globs start from, for file system notifications.</summary>
    public IEnumerable<(string Root, bool Recursive)> WatchRoots
    {
        get
        {
            foreach (var (root, _, recursive) in _matchers) yield return (root, recursive);
        }
    }

    /// <summary><c>/var/log/**/*.log</c> -> (<c>/var/log</c>, <c>**/*.log</c>): the matcher needs a directory to start from.</summary>
    internal static (string Root, string Relative) SplitRoot(string fullPattern)
    {
        var parts = fullPattern.Split('/');
        int firstGlob = Array.FindIndex(parts, p => p.IndexOfAny(['*', '?', '[', '{']) >= 0);
        if (firstGlob < 0) firstGlob = parts.Length - 1;
        var root = string.Join('/', parts, 0, firstGlob);
        if (root.Length == 0) root = "/";
        return (root, string.Join('/', parts, firstGlob, parts.Length - firstGlob));
    }
}
