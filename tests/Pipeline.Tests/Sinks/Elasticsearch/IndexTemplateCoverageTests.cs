using System.Text.Json.Nodes;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks.Elasticsearch;

namespace Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>
/// Every field a pipeline event carries has an explicit mapping in its stream's template. Left to dynamic
/// mapping, a field is typed by the first value Elasticsearch happens to see, and Kibana's filters on it
/// break the day a later value does not fit. Only labels.* and alert.group.* are dynamic, by design.
/// </summary>
public class IndexTemplateCoverageTests
{
    public static TheoryData<string> Kinds => ["ops.logs.v1", "ops.process.v1", "ops.probes.v1", "ops.alerts.v1", "ops.deadletter.v1"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryFieldOfTheTopicsEventsHasAnExplicitMapping(string topic)
    {
        var spec = TopicCatalog.ByName(topic)!;
        var document = JsonNode.Parse(FullyPopulated(topic))!.AsObject();
        var properties = JsonNode.Parse(IndexTemplates.For(spec))!["template"]!["mappings"]!["properties"]!.AsObject();

        var unmapped = new List<string>();
        Walk(document, properties, "", unmapped);

        Assert.True(unmapped.Count == 0, $"{topic}: fields without an explicit mapping: {string.Join(", ", unmapped)}");
    }

    /// <summary>The topic's sample event with every optional field set, so each one is checked.</summary>
    private static byte[] FullyPopulated(string topic)
    {
        var at = DateTimeOffset.UtcNow;
        return topic switch
        {
            "ops.logs.v1" => EventSerializer.Serialize(SampleEvents.Log(1) with
            {
                Tags = ["edge"],
                Log = SampleEvents.Log(1).Log with { Flags = ["truncated"] },
            }),
            "ops.process.v1" => EventSerializer.Serialize(SampleEvents.Process(1) with
            {
                Event = SampleEvents.Process(1).Event with { Action = ProcessActions.OomKill, Severity = 2 },
                Message = "oom kill",
                Container = new ContainerInfo { Id = "c0ffee", Runtime = "containerd" },
                Orchestrator = new OrchestratorInfo { Type = "kubernetes", Resource = new OrchestratorResource { Type = "pod", Id = "uid-1" } },
                Labels = new Dictionary<string, string> { ["team"] = "web" },
                Process = SampleEvents.Process(1).Process with { Args = ["nginx", "-g"], End = at, Nice = 5, Io = new ProcessIo { ReadBytes = 1, WriteBytes = 2 }, FdCount = 9 },
            }),
            "ops.probes.v1" => EventSerializer.Serialize(SampleEvents.Probe(1) with { Labels = new Dictionary<string, string> { ["zone"] = "a" } }),
            "ops.alerts.v1" => EventSerializer.Serialize(SampleEvents.Alert(1) with { Labels = new Dictionary<string, string> { ["team"] = "web" } }),
            _ => EventSerializer.Serialize(SampleEvents.DeadLetter(1)),
        };
    }

    private static void Walk(JsonObject document, JsonObject properties, string prefix, List<string> unmapped)
    {
        foreach (var (name, value) in document)
        {
            var path = prefix + name;
            if (path is "labels" or "alert.group") continue; // dynamic templates map these, by design
            if (properties[name] is not JsonObject mapping)
            {
                unmapped.Add(path);
                continue;
            }
            if (value is JsonObject child)
            {
                if (mapping["properties"] is JsonObject nested) Walk(child, nested, path + ".", unmapped);
                else if (mapping["type"]?.GetValue<string>() is not ("object" or "flattened")) unmapped.Add(path + " (an object, mapped as a leaf)");
            }
            else if (mapping["type"] is null)
            {
                unmapped.Add(path + " (a value, mapped as an object)");
            }
        }
    }
}
