using Microsoft.Extensions.Logging;

namespace Pipeline.Producers.Logs;

/// <summary>
/// Wakes the tailer when something changes under the directories its globs start from (inotify through
/// FileSystemWatcher), so new lines and new files are picked up at once instead of at the next poll.
/// Only a hint: the tailer still polls every <c>scan_interval</c>, so a notification that is lost
/// (queue overflow, inotify watch limit, a network file system that sends none) delays a file by one
/// poll at most and never stalls it.
/// </summary>
internal sealed class LogFileWatcher(ILogger logger) : IDisposable
{
    private readonly Dictionary<string, FileSystemWatcher> _watchers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _failed = new(StringComparer.Ordinal);
    private readonly AutoResetEvent _changed = new(false);
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string From, string To)> _renames = new();
    private const int MaxPendingRenames = 4096;

    /// <summary>Set when a watched directory changed since the tailer last waited.</summary>
    public WaitHandle Changed => _changed;

    /// <summary>Watchers running now (for tests and logs).</summary>
    public int Count => _watchers.Count;

    /// <summary>Watches the roots that exist (a directory that appears later is picked up by a later call), and stops watching the roots no longer wanted.</summary>
    public void Watch(IEnumerable<(string Root, bool Recursive)> roots)
    {
        var wanted = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var (root, recursive) in roots)
            wanted[root] = wanted.TryGetValue(root, out var r) ? r || recursive : recursive;
        List<string>? gone = null;
        foreach (var (root, watcher) in _watchers)
        {
            if (!wanted.TryGetValue(root, out var recursive) || recursive != watcher.IncludeSubdirectories || !Directory.Exists(root)) (gone ??= []).Add(root);
        }
        foreach (var root in gone ?? [])
        {
            _watchers[root].Dispose();
            _watchers.Remove(root);
        }
        foreach (var (root, recursive) in wanted)
        {
            if (_watchers.ContainsKey(root) || !Directory.Exists(root)) continue;
            try
            {
                var watcher = new FileSystemWatcher(root)
                {
                    IncludeSubdirectories = recursive,
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
                    InternalBufferSize = 64 * 1024,
                };
                watcher.Changed += OnChange;
                watcher.Created += OnChange;
                watcher.Deleted += OnChange;
                watcher.Renamed += OnRenamed;
                watcher.Error += OnError;
                watcher.EnableRaisingEvents = true;
                _watchers[root] = watcher;
                _failed.Remove(root);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or PlatformNotSupportedException)
            {
                // E.g. the inotify instance or watch limit is reached: polling still covers this directory.
                if (_failed.Add(root)) logger.LogWarning("cannot watch {Root} for changes ({Error}); polling it every scan_interval instead", root, e.Message);
            }
        }
    }

    private void OnChange(object sender, FileSystemEventArgs e) => _changed.Set();

    /// <summary>
    /// Kept for the tailer: a file created and renamed away between two scans (rotation faster than the
    /// tailer looks, or a tailer thread starved on a busy host) was never matched by a glob, and this
    /// rename is the only trace of it. Bounded: beyond it, such files are lost exactly as without a watcher.
    /// </summary>
    private void OnRenamed(object sender, RenamedEventArgs e)
    {
        if (_renames.Count < MaxPendingRenames) _renames.Enqueue((e.OldFullPath, e.FullPath));
        _changed.Set();
    }

    /// <summary>The next rename seen since the last call, oldest first.</summary>
    public bool TryTakeRename(out (string From, string To) rename) => _renames.TryDequeue(out rename);

    private void OnError(object sender, ErrorEventArgs e)
    {
        // Typically an overflow of the notification queue: wake and let a full poll find what was missed.
        _changed.Set();
        logger.LogDebug("file system notifications: {Error}; the next poll catches up", e.GetException().Message);
    }

    public void Dispose()
    {
        foreach (var watcher in _watchers.Values) watcher.Dispose();
        _watchers.Clear();
        _changed.Dispose();
    }
}
