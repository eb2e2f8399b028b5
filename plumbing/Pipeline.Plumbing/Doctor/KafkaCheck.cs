using Confluent.Kafka;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Schemas.Topics;

namespace Pipeline.Plumbing.Doctor;

/// <summary>
/// One metadata request, not the stages' retry-forever wait (<see cref="KafkaReadiness"/>): the
/// bootstrap answers, and every catalog topic exists. Kafka offers no cheap way to read a broker's
/// clock, so the clock is checked against Elasticsearch's Date header instead (<see cref="ElasticsearchCheck"/>).
/// </summary>
public static class KafkaCheck
{
    public static IEnumerable<CheckResult> Check(PipelineConfig config, TimeSpan timeout)
    {
        KafkaSettings settings;
        try
        {
            settings = KafkaSettings.ForClient(config);
        }
        catch (InvalidOperationException e)
        {
            return [CheckResult.Fail("kafka", e.Message, "start `pipeline broker`, or set kafka.bootstrap to your brokers")];
        }

        Metadata metadata;
        try
        {
            using var admin = new AdminClientBuilder(settings.Admin("doctor")).SetLogHandler((_, _) => { }).Build();
            metadata = admin.GetMetadata(timeout);
            if (metadata.Brokers.Count == 0) throw new KafkaException(ErrorCode.Local_AllBrokersDown);
        }
        catch (KafkaException e)
        {
            return [CheckResult.Fail("kafka", $"{settings.Bootstrap} did not answer within {timeout.TotalSeconds:0}s: {e.Error.Reason}",
                "check kafka.bootstrap, the network path (firewall, DNS) and kafka.properties (security.protocol, SASL)")];
        }

        var results = new List<CheckResult>
        {
            CheckResult.Ok("kafka", $"{settings.Bootstrap} answers: {metadata.Brokers.Count} broker(s)"),
        };
        var present = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError).Select(t => t.Topic).ToHashSet(StringComparer.Ordinal);
        var missing = TopicCatalog.All.Select(t => t.Name).Where(name => !present.Contains(name)).ToList();
        results.Add(missing.Count == 0
            ? CheckResult.Ok("kafka topics", $"all {TopicCatalog.All.Count} pipeline topics exist")
            : CheckResult.Fail("kafka topics", $"missing: {string.Join(", ", missing)}",
                "start any pipeline stage once with rights to create topics (it creates them), or create them with the partitions in the README"));
        return results;
    }
}
