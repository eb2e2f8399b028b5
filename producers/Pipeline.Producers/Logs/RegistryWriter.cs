using Microsoft.Extensions.Logging;

namespace Pipeline.Producers.Logs;

/// <summary>
/// Writes registry snapshots on its own thread. An fsync can take a long time on a busy disk, and the
/// tailer must not stop reading meanwhile: under copytruncate, a file not read before it is truncated
/// loses lines. Snapshots that arrive while one is being written replace each other: only the newest matters.
/// </summary>
internal sealed class RegistryWriter : IDisposable
{
    private readonly CheckpointStore _store;
    private readonly ILogger _logger;
    private readonly AutoResetEvent _submitted = new(false);
    private readonly Thread _thread;
    private List<Checkpoint>? _pending;
    private volatile bool _stopping;

    public RegistryWriter(CheckpointStore store, ILogger logger)
    {
        _store = store;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "log registry writer" };
        _thread.Start();
    }

    public void Submit(List<Checkpoint> snapshot)
    {
        Interlocked.Exchange(ref _pending, snapshot);
        _submitted.Set();
    }

    /// <summary>Stops the thread after what was submitted is written, then writes <paramref name="last"/> on the caller's thread.</summary>
    public void Close(List<Checkpoint> last)
    {
        _stopping = true;
        _submitted.Set();
        _thread.Join();
        Write(last);
    }

    private void Run()
    {
        while (true)
        {
            _submitted.WaitOne();
            var snapshot = Interlocked.Exchange(ref _pending, null);
            if (snapshot is not null) Write(snapshot);
            if (_stopping) return;
        }
    }

    private void Write(List<Checkpoint> snapshot)
    {
        try
        {
            _store.Write(snapshot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogError("cannot write the log registry {Path}: {Error}; offsets will be re-read after a restart", _store.Path, e.Message);
        }
    }

    public void Dispose() => _submitted.Dispose();
}
