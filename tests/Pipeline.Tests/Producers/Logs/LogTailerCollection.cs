namespace Pipeline.Tests.Producers.Logs;

/// <summary>
/// The tailer tests run one after another: each has its own broker, but they wait on real time (scan
/// intervals, checkpoint saves, delivery timeouts), and on two cores parallel runs would make those waits flaky.
/// </summary>
[CollectionDefinition(Name)]
public sealed class LogTailerCollection
{
    public const string Name = "log tailer against an embedded broker";
}
