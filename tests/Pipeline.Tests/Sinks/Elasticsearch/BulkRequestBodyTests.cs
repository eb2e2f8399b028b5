using System.Text;
using Pipeline.Sinks;
using Pipeline.Sinks.Elasticsearch;

namespace Pipeline.Tests.Sinks.Elasticsearch;

public sealed class BulkRequestBodyTests
{
    private static SinkRecord Record(string id, string value, string dataStream = "logs-ops.logs-default") =>
        new("ops.logs.v1", 0, 0, Encoding.UTF8.GetBytes(value), id, dataStream);

    [Fact]
    public void EachRecordIsACreateActionLineFollowedByItsValue()
    {
        SinkRecord[] batch = [Record("a1", """{"n":1}"""), Record("b2", """{"n":2}""", "metrics-ops.process-prod")];

        using var body = BulkRequestBody.Build(batch, [0, 1]);

        Assert.Equal(
            "{\"create\":{\"_index\":\"logs-ops.logs-default\",\"_id\":\"a1\"}}\n{\"n\":1}\n" +
            "{\"create\":{\"_index\":\"metrics-ops.process-prod\",\"_id\":\"b2\"}}\n{\"n\":2}\n",
            Encoding.UTF8.GetString(body.Memory.Span));
    }

    [Fact]
    public void OnlyTheChosenSlotsAreWrittenInTheGivenOrder()
    {
        SinkRecord[] batch = [Record("a", "{}"), Record("b", "{}"), Record("c", "{}")];

        using var body = BulkRequestBody.Build(batch, [2, 0]);

        var text = Encoding.UTF8.GetString(body.Memory.Span);
        Assert.True(text.IndexOf("\"c\"", StringComparison.Ordinal) < text.IndexOf("\"a\"", StringComparison.Ordinal));
        Assert.DoesNotContain("\"b\"", text);
    }

    [Fact]
    public void IdsNeedingJsonEscapesAreEscaped()
    {
        using var body = BulkRequestBody.Build([Record("quote\"back\\slash", "{}")], [0]);

        Assert.Contains("\"_id\":\"quote\\u0022back\\\\slash\"", Encoding.UTF8.GetString(body.Memory.Span));
    }

    [Fact]
    public void RawLineBreaksInAValueBecomeSpacesSoItStaysOneLine()
    {
        using var body = BulkRequestBody.Build([Record("a", "{\r\n  \"n\": 1\n}")], [0]);

        var lines = Encoding.UTF8.GetString(body.Memory.Span).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("{    \"n\": 1 }", lines[1]);
    }

    [Fact]
    public void ALargeBatchGrowsTheBufferAndKeepsEveryByte()
    {
        var value = "{\"m\":\"" + new string('x', 10_000) + "\"}";
        var batch = Enumerable.Range(0, 200).Select(i => Record("id" + i, value)).ToArray();

        using var body = BulkRequestBody.Build(batch, Enumerable.Range(0, 200).ToArray());

        Assert.Equal(400, Encoding.UTF8.GetString(body.Memory.Span).Count(c => c == '\n'));
        Assert.True(body.Memory.Length > 200 * 10_000);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData(" \r\n\t", true)]
    [InlineData("{}", false)]
    public void BlankValuesAreRecognised(string value, bool blank) =>
        Assert.Equal(blank, BulkRequestBody.IsBlank(Encoding.UTF8.GetBytes(value)));
}
