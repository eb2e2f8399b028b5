namespace Pipeline.Producers.Process;

/// <summary>An OOM kill as one source saw it. Fields a source cannot know are null.</summary>
public sealed record OomKill
{
    /// <summary>Where it was seen first: <c>kmsg</c>, <c>memory.events</c> or <c>vmstat</c>.</summary>
    public required string Source { get; init; }
    public required DateTimeOffset At { get; init; }
    /// <summary>Stable per kill, for the event id.</summary>
    public required string Key { get; init; }
    public int? Pid { get; init; }
    public string? Name { get; init; }
    public string? Cgroup { get; init; }
    public int? Uid { get; init; }
    public long? RssBytes { get; init; }
    /// <summary>Every source that saw this kill, first one first.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];
}
