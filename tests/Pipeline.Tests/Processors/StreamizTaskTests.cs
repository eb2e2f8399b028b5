using Pipeline.Processors.Rules;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Mock;
using Streamiz.Kafka.Net.Processors.Public;
using Streamiz.Kafka.Net.SerDes;

namespace Pipeline.Tests.Processors;

/// <summary>
/// The evaluator waits for its task to be restored before it reads its store on the wall clock, and learns that
/// through Streamiz internals. If a Streamiz upgrade moves them, these fail rather than the evaluator silently
/// reading half-restored state again (a first version read a member that is null in a transformer's context).
/// </summary>
public class StreamizTaskTests
{
    [Fact]
    public void TheMembersItReadsExist() => Assert.True(StreamizTask.Resolvable);

    private sealed class StateProbe : ITransformer<string, byte[], string, byte[]>
    {
        public static readonly List<string?> Seen = [];
        private ProcessorContext<string, byte[]>? _context;

        public void Init(ProcessorContext<string, byte[]> context)
        {
            _context = context;
            lock (Seen) Seen.Add("init:" + StreamizTask.State(context));
        }

        public Record<string, byte[]>? Process(Record<string, byte[]> record)
        {
            lock (Seen) Seen.Add("process:" + StreamizTask.State(_context!));
            return null;
        }

        public void Close() { }
    }

    [Fact]
    public void ATransformerSeesItsTaskCreatedAtInitAndRunningWhenRecordsArrive()
    {
        var builder = new StreamBuilder();
        builder.Stream<string, byte[]>("in", new StringSerDes(), new ByteArraySerDes())
            .Transform(TransformerBuilder.New<string, byte[], string, byte[]>().Transformer<StateProbe>().Build())
            .To("out", new StringSerDes(), new ByteArraySerDes());
        var config = new StreamConfig<StringSerDes, ByteArraySerDes> { ApplicationId = "task-state" };
        lock (StateProbe.Seen) StateProbe.Seen.Clear();
        using (var driver = new TopologyTestDriver(builder.Build(), config))
        {
            driver.CreateInputTopic<string, byte[]>("in").PipeInput("k", [1]);
        }
        lock (StateProbe.Seen)
        {
            Assert.Equal("init:CREATED", StateProbe.Seen[0]);
            Assert.Equal("process:RUNNING", StateProbe.Seen[^1]);
        }
    }
}
