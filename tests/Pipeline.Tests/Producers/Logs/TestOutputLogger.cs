using Microsoft.Extensions.Logging;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>Writes the tailer's log into the test's output, so a failure shows what the tailer saw.</summary>
internal sealed class TestOutputLogger<T>(ITestOutputHelper? output) : ILogger<T>
{
    private readonly List<string> _messages = [];

    /// <summary>Everything logged at Information or above, as "Level: text", for tests that check what was said.</summary>
    public IReadOnlyList<string> Messages { get { lock (_messages) return [.. _messages]; } }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        lock (_messages) _messages.Add($"{logLevel}: {formatter(state, exception)}");
        if (output is null) return;
        try
        {
            output!.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test already ended (the tailer logs while it stops).
        }
    }
}
