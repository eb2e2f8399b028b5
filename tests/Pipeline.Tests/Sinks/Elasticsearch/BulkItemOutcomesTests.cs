using Pipeline.Sinks;
using Pipeline.Sinks.Elasticsearch;

namespace Pipeline.Tests.Sinks.Elasticsearch;

public sealed class BulkItemOutcomesTests
{
    [Theory]
    [InlineData(201, ItemOutcome.Created)]
    [InlineData(200, ItemOutcome.Created)]
    [InlineData(409, ItemOutcome.Duplicate)]
    [InlineData(429, ItemOutcome.Retry)]
    [InlineData(500, ItemOutcome.Retry)]
    [InlineData(503, ItemOutcome.Retry)]
    [InlineData(400, ItemOutcome.Rejected)]
    [InlineData(404, ItemOutcome.Rejected)]
    [InlineData(0, ItemOutcome.Retry)]
    public void AnItemStatusMapsToTheOutcomeElasticGuidanceGives(int status, ItemOutcome expected) =>
        Assert.Equal(expected, BulkItemOutcomes.ForItem(status, "some_exception", "why").Outcome);

    [Fact]
    public void AnItemErrorKeepsElasticsearchsTypeAndReason()
    {
        var result = BulkItemOutcomes.ForItem(400, "document_parsing_exception", "failed to parse field [x]");

        Assert.Equal(new ItemResult(ItemOutcome.Rejected, "document_parsing_exception", "failed to parse field [x]"), result);
    }

    [Fact]
    public void AConnectionFailureIsARetryNamedConnectionError()
    {
        var result = BulkItemOutcomes.ForFailedRequest(null, null, null, new HttpRequestException("Connection refused"));

        Assert.Equal(ItemOutcome.Retry, result.Outcome);
        Assert.Equal("connection_error", result.ErrorType);
        Assert.Equal("Connection refused", result.ErrorReason);
    }

    [Fact]
    public void ATimedOutRequestIsARetryNamedTimeout() =>
        Assert.Equal("timeout", BulkItemOutcomes.ForFailedRequest(null, null, null, new TaskCanceledException("x", new TimeoutException())).ErrorType);
}
