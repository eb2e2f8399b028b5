using Microsoft.Extensions.Logging;

namespace Pipeline.Tests.Producers.Logs;

/// <summary>Writes the tailer's log into the test's output, so a failure shows what the tailer saw.</summary>
internal sealed class TestOutputLogger<T>(ITestOutputHelper? output) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => output is not null && logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
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
