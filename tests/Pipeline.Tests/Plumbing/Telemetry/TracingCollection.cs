namespace Pipeline.Tests.Plumbing.Telemetry;

/// <summary>
/// Tests that listen to the pipeline's ActivitySource run one after another: every listener of a source takes part in
/// each sampling decision (the most generous wins), so a ratio-1 provider in one test would make a ratio-0 test's
/// spans sampled.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TracingCollection
{
    public const string Name = "tracing: one tracer provider at a time";
}
