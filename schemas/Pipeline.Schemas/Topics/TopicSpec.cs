namespace Pipeline.Schemas.Topics;

/// <summary>What every stage must agree on about one topic.</summary>
/// <param name="Name">Kafka topic name; the version suffix changes only with an incompatible schema.</param>
/// <param name="Partitions">Partition count used when the pipeline creates the topic.</param>
/// <param name="Key">What the record key holds.</param>
/// <param name="SchemaFile">The JSON Schema file (under <c>schemas/json/</c>) every value must satisfy.</param>
/// <param name="Dataset">ECS <c>event.dataset</c>, which also names the Elasticsearch data stream.</param>
/// <param name="StreamType">Elasticsearch data stream type: <c>logs</c> or <c>metrics</c>.</param>
public sealed record TopicSpec(string Name, int Partitions, string Key, string SchemaFile, string Dataset, string StreamType)
{
    /// <summary>Elasticsearch data stream for this topic: <c>{type}-{dataset}-{namespace}</c>.</summary>
    public string DataStream(string @namespace) => $"{StreamType}-{Dataset}-{@namespace}";
}
