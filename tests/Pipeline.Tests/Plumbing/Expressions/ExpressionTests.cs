using System.Text.Json;
using CsCheck;
using Pipeline.Plumbing.Expressions;

namespace Pipeline.Tests.Plumbing.Expressions;

public class ExpressionTests
{
    private static readonly JsonElement Event = JsonDocument.Parse("""
        {"host":{"name":"web-1"},"log":{"level":"error","file":{"path":"/var/log/app.log"}},
         "message":"timeout talking to db","process":{"cpu":{"pct":73.5},"pid":42,"name":"nginx: worker","memory":{"rss":734003200}},
         "tags":["prod","eu"],"labels.team":"payments","flag":false}
        """).RootElement;

    private static bool Eval(string expression) => Expression.Parse(expression).Matches(new JsonFieldSource(Event));

    [Theory]
    [InlineData("log.level == \"error\"", true)]
    [InlineData("log.level != \"error\"", false)]
    [InlineData("process.cpu.pct > 50", true)]
    [InlineData("process.cpu.pct >= 73.5 && process.cpu.pct <= 73.5", true)]
    [InlineData("process.pid < 10", false)]
    [InlineData("message contains \"timeout\"", true)]
    [InlineData("message startswith \"time\" and message endswith \"db\"", true)]
    [InlineData("message matches \"^time.*db$\"", true)]
    [InlineData("host.name in [\"web-1\", \"web-2\"]", true)]
    [InlineData("host.name in [\"db-1\"]", false)]
    [InlineData("tags contains \"eu\"", true)]
    [InlineData("labels.team == \"payments\"", true)]
    [InlineData("not (log.level == \"info\") or false", true)]
    [InlineData("! flag", true)]
    [InlineData("missing.field == \"x\"", false)]
    [InlineData("missing.field != \"x\"", true)]
    [InlineData("missing.field == null", true)]
    [InlineData("process.pid == \"42\"", true)]
    [InlineData("true", true)]
    [InlineData("process.name =~ \"^nginx\"", true)]
    [InlineData("process.name =~ \"^apache\"", false)]
    [InlineData("process.name !~ \"^apache\"", true)]
    [InlineData("process.name !~ \"worker$\"", false)]
    [InlineData("missing.field =~ \".*\" || missing.field !~ \".*\"", false)]
    [InlineData("process.memory.rss > 500MiB", true)]
    [InlineData("process.memory.rss > 700MiB", false)]
    [InlineData("process.memory.rss == 700MiB", true)]
    [InlineData("process.memory.rss < 1GiB && process.memory.rss > 734MB", true)]
    [InlineData("process.memory.rss >= 716800KiB", true)]
    [InlineData("process.pid < 1k", true)]
    [InlineData("process.memory.rss > 0.5GiB", true)]
    [InlineData("process.memory.rss > 1e3kB", true)]
    public void ExpressionsEvaluateAgainstAnEvent(string expression, bool expected) => Assert.Equal(expected, Eval(expression));

    [Theory]
    [InlineData("log.level = \"error\"", 10, "'=='")]
    [InlineData("log.level == ", 13, "ends too early")]
    [InlineData("(a == 1", 7, "missing ')'")]
    [InlineData("message == \"open", 11, "not closed")]
    [InlineData("name matches \"(\"", 13, "regular expression")]
    [InlineData("a == 1 b", 7, "unexpected")]
    [InlineData("", 0, "empty")]
    [InlineData("name =~ 5", 8, "quoted regular expression")]
    [InlineData("name !~ \"[\"", 8, "regular expression")]
    [InlineData("rss > 500MiBs", 9, "unknown unit 'MiBs'")]
    [InlineData("rss > 5 MiB", 8, "unexpected")]
    public void ParseErrorsSayWhatAndWhere(string expression, int position, string fragment)
    {
        var e = Assert.Throws<ExpressionException>(() => Expression.Parse(expression));
        Assert.Equal(position, e.Position);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void NumericComparisonsAgreeWithDoubleComparisonForAnyValues()
    {
        Gen.Select(Gen.Double[-1e6, 1e6], Gen.Double[-1e6, 1e6], Gen.OneOf(">", ">=", "<", "<=", "==", "!="))
            .Sample((value, threshold, op) =>
            {
                var doc = JsonDocument.Parse($"{{\"v\":{value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}}}").RootElement;
                var expr = Expression.Parse($"v {op} {threshold.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
                bool expected = op switch
                {
                    ">" => value > threshold, ">=" => value >= threshold, "<" => value < threshold,
                    "<=" => value <= threshold, "==" => value == threshold, _ => value != threshold,
                };
                return expr.Matches(new JsonFieldSource(doc)) == expected;
            });
    }

    [Fact]
    public void ArbitraryTextNeverCrashesTheParserOnlyRejectsIt()
    {
        Gen.String.Sample(text =>
        {
            try { Expression.Parse(text); }
            catch (ExpressionException e) { Assert.InRange(e.Position, 0, text.Length); }
        });
    }

    [Fact]
    public void AggregatesParseAndRejectNonsense()
    {
        Assert.Equal(AggregateFunction.Count, AggregateSpec.Parse("count()").Function);
        Assert.Equal("process.cpu.pct", AggregateSpec.Parse("avg(process.cpu.pct)").Field!.Text);
        Assert.Throws<ExpressionException>(() => AggregateSpec.Parse("sum()"));
        Assert.Throws<ExpressionException>(() => AggregateSpec.Parse("count(x)"));
        Assert.Throws<ExpressionException>(() => AggregateSpec.Parse("p50(x)"));
    }
}
