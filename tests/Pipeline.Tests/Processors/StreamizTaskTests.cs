using Pipeline.Processors.Rules;

namespace Pipeline.Tests.Processors;

public class StreamizTaskTests
{
    /// <summary>
    /// The evaluator waits for its task to be restored before it reads its store on the wall clock, and learns that
    /// through Streamiz internals (ProcessorContext.Task.State). If a Streamiz upgrade renames them, this fails
    /// rather than the evaluator silently reading half-restored state again.
    /// </summary>
    [Fact]
    public void TheStateOfAProcessorsTaskCanBeRead() => Assert.True(StreamizTask.Resolvable);
}
