using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;
using Pipeline.Schemas.Topics;
using Polly;
using Polly.Retry;

namespace Pipeline.Plumbing.Kafka;

/// <summary>Waits until Kafka answers, saying so loudly while it doesn't, and makes sure the topics exist.</summary>
public static class KafkaReadiness
{
    /// <summary>Blocks until the cluster answers a metadata request, retrying with capped exponential backoff.</summary>
    public static async Task WaitUntilReachableAsync(KafkaSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        var pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                MaxDelay = TimeSpan.FromSeconds(30),
                ShouldHandle = new PredicateBuilder().Handle<KafkaException>(),
                OnRetry = args =>
                {
                    logger.LogError("cannot reach Kafka at {Bootstrap}: {Error}; retrying in {Delay:0.0}s (attempt {Attempt})",
                        settings.Bootstrap, args.Outcome.Exception?.Message, args.RetryDelay.TotalSeconds, args.AttemptNumber + 1);
                    return default;
                },
            })
            .Build();
        await pipeline.ExecuteAsync(_ =>
        {
            using var admin = new AdminClientBuilder(settings.Admin("readiness")).SetLogHandler((_, _) => { }).Build();
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(5));
            if (metadata.Brokers.Count == 0) throw new KafkaException(ErrorCode.Local_AllBrokersDown);
            return ValueTask.CompletedTask;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates the catalog's topics on a real cluster (already existing is fine).</summary>
    public static async Task EnsureTopicsAsync(KafkaSettings settings, ILogger logger)
    {
        if (settings.Embedded) return; // the embedded broker creates them itself: the mock has no CreateTopics
        using var admin = new AdminClientBuilder(settings.Admin("topics")).Build();
        var specs = new List<TopicSpecification>();
        foreach (var t in TopicCatalog.All)
            specs.Add(new TopicSpecification { Name = t.Name, NumPartitions = t.Partitions, ReplicationFactor = -1 });
        try
        {
            await admin.CreateTopicsAsync(specs).ConfigureAwait(false);
            logger.LogInformation("created topics {Topics}", string.Join(", ", specs.Select(s => s.Name)));
        }
        catch (CreateTopicsException e)
        {
            foreach (var r in e.Results)
            {
                if (r.Error.Code is not (ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
                    logger.LogWarning("could not create topic {Topic}: {Error}; create it by hand", r.Topic, r.Error.Reason);
            }
        }
    }
}
