using Pipeline.Processors.Filtering;
using Streamiz.Kafka.Net.Processors.Public;

namespace Pipeline.Processors.Decoding;

/// <summary>
/// The first node of every source: <see cref="DecodeTransformer"/> then the source's filter chain
/// (<see cref="FilterTransformer"/>), in one Streamiz node because every node a record crosses costs Streamiz's
/// per-hop bookkeeping, and every record crosses this one.
/// </summary>
internal sealed class DecodeAndFilterTransformer : ITransformer<string, byte[], string, DecodedEvent>
{
    private readonly DecodeTransformer decode;
    private readonly FilterTransformer filter;

    // Streamiz's TransformerBuilder demands new() and instantiates the type once while building the
    // topology; the running instances come from the constructor below, with the parameters given to it.
    public DecodeAndFilterTransformer() : this(null!, null!, null!, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance) { }

    public DecodeAndFilterTransformer(ProcessorActivity activity, SourceFilterChains chains, string host, Microsoft.Extensions.Logging.ILogger logger)
    {
        decode = new DecodeTransformer(activity, host, logger);
        filter = new FilterTransformer(chains, host);
    }

    public void Init(ProcessorContext<string, DecodedEvent> context) { }

    public Record<string, DecodedEvent>? Process(Record<string, byte[]> record)
        => filter.Process(decode.Process(record), record.TopicPartitionOffset);

    public void Close() { }
}
