using Confluent.Kafka;
using Pipeline.Sinks;

namespace Pipeline.Tests.Sinks;

public class DeliveryWindowTests
{
    private static PendingBatch Batch(params (int Partition, long Offset)[] records)
    {
        var batch = new PendingBatch(records.Length);
        foreach (var (partition, offset) in records)
            batch.Add(new TopicPartition("t", partition), new SinkRecord("t", partition, offset, "{}"u8.ToArray(), $"id{partition}-{offset}", "s"), DateTime.UtcNow);
        return batch;
    }

    [Fact]
    public void ABatchThatFinishesEarlyIsNotCommittedBeforeTheOlderOnesThatAreStillInFlight()
    {
        var window = new DeliveryWindow(3);
        var first = new TaskCompletionSource();
        var second = new TaskCompletionSource();
        window.Add(Batch((0, 0), (1, 0), (0, 1)), first.Task);
        window.Add(Batch((0, 2), (1, 1)), second.Task);
        var commit = new Dictionary<TopicPartition, long>();

        second.SetResult();
        Assert.Empty(window.TakeFinished(commit));
        Assert.Empty(commit);

        first.SetResult();
        Assert.Equal(2, window.TakeFinished(commit).Count);
        Assert.Equal(3, commit[new TopicPartition("t", 0)]);
        Assert.Equal(2, commit[new TopicPartition("t", 1)]);
        Assert.True(window.IsEmpty);
    }

    [Fact]
    public void AFailedBatchStopsTheSinkAndReleasesNothingFromItOrAfterIt()
    {
        var window = new DeliveryWindow(2);
        window.Add(Batch((0, 0)), Task.FromException(new SinkUnavailableException("down")));
        window.Add(Batch((0, 1)), Task.CompletedTask);
        var commit = new Dictionary<TopicPartition, long>();

        Assert.Throws<SinkUnavailableException>(() => window.TakeFinished(commit));
        Assert.Empty(commit);
        Assert.True(window.IsFull);
    }

    [Fact]
    public void ABatchIsFullByCountOrBytesAndReadyAfterLingerFromItsFirstRecord()
    {
        var batch = Batch((0, 0), (0, 1));
        Assert.True(batch.IsFull(2, 1000));
        Assert.True(batch.IsFull(10, 4));
        Assert.False(batch.IsFull(10, 1000));
        Assert.False(batch.HasLingered(TimeSpan.FromSeconds(5), batch.FirstAt.AddSeconds(1)));
        Assert.True(batch.HasLingered(TimeSpan.FromSeconds(5), batch.FirstAt.AddSeconds(5)));
        Assert.False(new PendingBatch(1).HasLingered(TimeSpan.Zero, DateTime.UtcNow));
    }
}
