using Microsoft.Extensions.Logging;
using Pipeline.Producers.Logs;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>The registry at data_dir/registry: atomic, taken over from the old location, and never fatal when damaged.</summary>
public class CheckpointStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new("pipeline-registry");

    public void Dispose() => _dir.Dispose();

    private static Checkpoint Entry(string identity, long offset) => new()
    {
        Identity = identity,
        Path = "/var/log/app.log",
        Offset = offset,
        Fingerprint = "00ff",
        FingerprintLength = 2,
        Seen = DateTimeOffset.UtcNow,
    };

    [Fact]
    public void TheRegistryLivesAtDataDirRegistryAndRoundTrips()
    {
        var store = CheckpointStore.OpenRegistry(_dir.Path);
        Assert.Equal(Path.Combine(_dir.Path, "registry"), store.Path);
        store.Set(Entry("1:2:3", 42));
        store.Save();
        Assert.False(File.Exists(store.Path + ".tmp"));
        Assert.Equal(42, CheckpointStore.OpenRegistry(_dir.Path).Get("1:2:3")!.Offset);
    }

    [Fact]
    public void AnOldCheckpointFileIsTakenOverOnce()
    {
        var legacy = new CheckpointStore(Path.Combine(_dir.Path, "checkpoints", "logs.json"));
        legacy.Set(Entry("1:2:3", 7));
        legacy.Save();

        var logger = new RecordingLogger();
        var store = CheckpointStore.OpenRegistry(_dir.Path, logger);
        Assert.Equal(7, store.Get("1:2:3")!.Offset);
        Assert.True(File.Exists(Path.Combine(_dir.Path, "registry")));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "checkpoints", "logs.json")));
        Assert.Contains(logger.Messages, m => m.Contains("moved the log registry", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{ this is not json")]
    [InlineData("")]
    [InlineData("[{\"path\": \"/x\", \"offset\": 1}]")]
    public void ADamagedRegistryIsMovedAsideWithAWarningAndReadingStartsOver(string content)
    {
        var path = Path.Combine(_dir.Path, "registry");
        File.WriteAllText(path, content);
        var logger = new RecordingLogger();
        var store = CheckpointStore.OpenRegistry(_dir.Path, logger);

        Assert.Empty(store.Entries);
        Assert.NotNull(store.MovedAside);
        Assert.Equal(content, File.ReadAllText(store.MovedAside!));
        Assert.False(File.Exists(path));
        var warning = Assert.Single(logger.Messages, m => m.StartsWith("Warning", StringComparison.Ordinal));
        Assert.Contains("damaged", warning);
        Assert.Contains(store.MovedAside!, warning);

        store.Set(Entry("1:2:3", 9));
        store.Save();
        Assert.Equal(9, CheckpointStore.OpenRegistry(_dir.Path).Get("1:2:3")!.Offset);
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<string> Messages { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Messages.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
