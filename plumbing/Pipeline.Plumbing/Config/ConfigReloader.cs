using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Telemetry;

namespace Pipeline.Plumbing.Config;

/// <summary>
/// Reloads the config file when it changes, or on SIGHUP, and hands it to every
/// <see cref="IConfigReloadable"/>. A file that does not load (syntax, unknown key, bad filter) is
/// rejected with its error and location: the running config stays as it was. Counted in
/// <c>pipeline_config_reloads_total{result}</c>, with the last error in <c>pipeline_config_last_reload_error_info</c>.
/// </summary>
public sealed class ConfigReloader : IHostedService, IDisposable
{
    // Editors and config management write a file in several steps (truncate, write, rename): wait for quiet.
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(300);

    private readonly string? _path;
    private readonly IReadOnlyList<IConfigReloadable> _targets;
    private readonly ILogger _logger;
    private readonly Lock _reloading = new();
    private FileSystemWatcher? _watcher;
    private PosixSignalRegistration? _sighup;
    private Timer? _debounce;
    private string? _lastText;

    /// <param name="path">The config file; null (defaults only) turns reloading off.</param>
    public ConfigReloader(string? path, IEnumerable<IConfigReloadable> targets, ILogger<ConfigReloader> logger)
    {
        _path = path is not null && File.Exists(path) ? Path.GetFullPath(path) : null;
        _targets = [.. targets];
        _logger = logger;
    }

    /// <summary>Reloads attempted since start (both results).</summary>
    public int Attempts { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_path is null) return Task.CompletedTask;
        _lastText = TryRead();
        _debounce = new Timer(_ => ReloadIfChanged(), null, Timeout.Infinite, Timeout.Infinite);
        // The directory, not the file: a rename over the file (most editors, Kubernetes ConfigMaps) is an event there.
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!)
        {
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.DirectoryName,
        };
        _watcher.Changed += OnFileEvent;
        _watcher.Created += OnFileEvent;
        _watcher.Renamed += OnFileEvent;
        _watcher.EnableRaisingEvents = true;
        try
        {
            _sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                // Handled here: without it SIGHUP would end the process.
                context.Cancel = true;
                _ = Task.Run(() => Reload("SIGHUP"));
            });
        }
        catch (PlatformNotSupportedException)
        {
            // Not on this OS: the file watcher still reloads.
        }
        _logger.LogInformation("reloading {Path} when it changes or on SIGHUP", _path);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    private void OnFileEvent(object sender, FileSystemEventArgs e) => _debounce?.Change(Settle, Timeout.InfiniteTimeSpan);

    private void ReloadIfChanged()
    {
        var text = TryRead();
        // Events for other files in the directory, or a save without a change: nothing to do.
        if (text is null || text == _lastText) return;
        Reload("file changed");
    }

    /// <summary>Loads the file and applies it. Returns false when it was rejected (the running config stays).</summary>
    public bool Reload(string why)
    {
        if (_path is null)
        {
            _logger.LogInformation("{Why}: no config file to reload (running on defaults)", why);
            return false;
        }
        lock (_reloading)
        {
            Attempts++;
            PipelineMetrics.ConfigLastReloadTime.Set(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
            _lastText = TryRead();
            try
            {
                var loaded = ConfigLoader.Load(_path);
                // All or none: a component that refuses after another has switched would leave the two running different configs.
                var swaps = new Action[_targets.Count];
                for (int i = 0; i < swaps.Length; i++) swaps[i] = _targets[i].Prepare(loaded);
                foreach (var swap in swaps) swap();
            }
            catch (Exception e) when (e is ConfigException or ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException or BadImageFormatException)
            {
                var message = e is ConfigException ? e.Message : $"{_path}: {e.Message}";
                _logger.LogError("config reload ({Why}) rejected, the previous config keeps running: {Error}", why, message);
                Failed(message);
                return false;
            }
            _logger.LogInformation("config reloaded ({Why}) from {Path}", why, _path);
            PipelineMetrics.ConfigReloads.WithLabels("success").Inc();
            PipelineMetrics.ConfigLastReloadSuccessful.Set(1);
            ClearLastError();
            return true;
        }
    }

    private void Failed(string message)
    {
        PipelineMetrics.ConfigReloads.WithLabels("failure").Inc();
        PipelineMetrics.ConfigLastReloadSuccessful.Set(0);
        ClearLastError();
        // One line, bounded: it is a label value.
        var label = message.ReplaceLineEndings(" ");
        PipelineMetrics.ConfigLastReloadError.WithLabels(label.Length > 300 ? label[..300] : label).Set(1);
    }

    private static void ClearLastError()
    {
        // Only ever one series: the error of the last reload, whichever reloader made it.
        foreach (var labels in PipelineMetrics.ConfigLastReloadError.GetAllLabelValues()) PipelineMetrics.ConfigLastReloadError.RemoveLabelled(labels);
    }

    private string? TryRead()
    {
        try
        {
            return File.ReadAllText(_path!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _sighup?.Dispose();
        _sighup = null;
        _watcher?.Dispose();
        _watcher = null;
        _debounce?.Dispose();
        _debounce = null;
    }
}
