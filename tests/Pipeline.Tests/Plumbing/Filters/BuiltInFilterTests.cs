using System.Text;
using System.Text.Json.Nodes;
using Pipeline.Plumbing.Filters;

namespace Pipeline.Tests.Plumbing.Filters;

/// <summary>Each built-in filter on its own, created from config the way a chain creates it.</summary>
public class BuiltInFilterTests
{
    private static readonly FilterFactory Factory = new();

    internal static FilterEvent Event(string json = """{"message":"GET /health 200","log":{"level":"info"},"host":{"name":"web-1"}}""")
        => FilterEvent.Parse(Encoding.UTF8.GetBytes(json));

    private static IEventFilter Create(FilterConfig config) => Factory.Create(config);

    [Fact]
    public void DropRemovesTheEventsItsWhereMatchesAndKeepsTheRest()
    {
        var drop = Create(new FilterConfig { Type = "drop", Where = "message contains \"/health\"" });
        Assert.False(drop.Apply(Event()));
        Assert.True(drop.Apply(Event("""{"message":"GET /orders 500"}""")));
    }

    [Fact]
    public void KeepKeepsOnlyTheEventsItsWhereMatches()
    {
        var keep = Create(new FilterConfig { Type = "keep", Where = "log.level == \"error\"" });
        Assert.False(keep.Apply(Event()));
        Assert.True(keep.Apply(Event("""{"message":"x","log":{"level":"error"}}""")));
        // A missing field does not match: the event is not kept.
        Assert.False(keep.Apply(Event("""{"message":"x"}""")));
    }

    [Theory]
    [InlineData("drop")]
    [InlineData("keep")]
    public void DropAndKeepNeedAWhere(string type)
    {
        var e = Assert.Throws<ArgumentException>(() => Factory.CreateChain([new FilterConfig { Type = type }], "test"));
        Assert.Contains($"{type} needs 'where'", e.Message);
        Assert.Contains("filter #1", e.Message);
    }

    [Fact]
    public void AddFieldsSetsDottedPathsCreatingObjectsOnTheWay()
    {
        var e = Event();
        Create(new FilterConfig { Type = "add_fields", Fields = new() { ["labels.team"] = "payments", ["service"] = "api" } }).Apply(e);
        Assert.Equal("payments", e.GetString("labels.team"));
        Assert.Equal("api", e.GetString("service"));
        Assert.Equal("web-1", e.GetString("host.name"));
    }

    [Fact]
    public void RenameMovesAFieldAndLeavesMissingOnesAlone()
    {
        var e = Event();
        Create(new FilterConfig { Type = "rename", Fields = new() { ["log.level"] = "severity.text", ["absent"] = "elsewhere" } }).Apply(e);
        Assert.Null(e.GetString("log.level"));
        Assert.Equal("info", e.GetString("severity.text"));
        Assert.Null(e.Root["elsewhere"]);
    }

    [Fact]
    public void RemoveFieldsRemovesNestedAndTopLevelFields()
    {
        var e = Event("""{"message":"m","labels":{"a":"1","b":"2"},"extra":true}""");
        Create(new FilterConfig { Type = "remove_fields", Names = ["labels.a", "extra", "not.there"] }).Apply(e);
        Assert.Equal("""{"message":"m","labels":{"b":"2"}}""", Encoding.UTF8.GetString(e.ToUtf8()));
    }

    [Theory]
    [InlineData("login ok user=bob password=hunter2 from 10.0.0.1", "login ok user=bob password=[REDACTED] from 10.0.0.1")]
    [InlineData("""{"user":"bob","password":"hunter2"}""", """{"user":"bob","password":"[REDACTED]"}""")]
    [InlineData("Authorization: Bearer eyJhbGciOi.abc-def.ghi_jkl", "Authorization: Bearer [REDACTED]")]
    [InlineData("api_key=abc123 token: t0k3n", "api_key=[REDACTED] token: [REDACTED]")]
    [InlineData("using AKIAIOSFODNN7EXAMPLE now", "using [REDACTED] now")]
    [InlineData("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl end", "jwt [REDACTED] end")]
    [InlineData("card 4111 1111 1111 1111 charged", "card [REDACTED] charged")]
    public void RedactMasksTheBuiltInKindsOfSecret(string message, string expected)
    {
        var filter = (RedactFilter)Create(new FilterConfig { Type = "redact" });
        Assert.Equal(expected, filter.Redact(message));
    }

    [Theory]
    [InlineData("order 1714567890123 done")]     // an epoch-millisecond timestamp: 13 digits, fails Luhn
    [InlineData("trace id 12345678901234567")]
    [InlineData("nothing secret here")]
    public void RedactLeavesOrdinaryNumbersAndTextAlone(string message)
    {
        var filter = (RedactFilter)Create(new FilterConfig { Type = "redact" });
        Assert.Same(message, filter.Redact(message));
    }

    [Fact]
    public void RedactTakesExtraPatternsAndWorksOnAnyStringField()
    {
        var e = Event("""{"message":"m","user":{"email":"bob@example.com ssn 123-45-6789"}}""");
        Create(new FilterConfig { Type = "redact", Field = "user.email", Names = [@"\b\d{3}-\d{2}-\d{4}\b", @"[\w.]+@[\w.]+"] }).Apply(e);
        Assert.Equal("[REDACTED] ssn [REDACTED]", e.GetString("user.email"));
    }

    [Fact]
    public void RegexTurnsNamedGroupsIntoFieldsUnderTheTarget()
    {
        var e = Event();
        Create(new FilterConfig { Type = "regex", Pattern = @"^(?<method>[A-Z]+) (?<path>\S+) (?<status>\d{3})(?<missing> never)?", Target = "http" }).Apply(e);
        Assert.Equal("GET", e.GetString("http.method"));
        Assert.Equal("/health", e.GetString("http.path"));
        Assert.Equal("200", e.GetString("http.status"));
        Assert.Null(e.Root["http"]!["missing"]);
    }

    [Fact]
    public void RegexWithoutAMatchLeavesTheEventAsItIs()
    {
        var e = Event();
        var before = Encoding.UTF8.GetString(e.ToUtf8());
        Create(new FilterConfig { Type = "regex", Pattern = @"^(?<x>POST)" }).Apply(e);
        Assert.Equal(before, Encoding.UTF8.GetString(e.ToUtf8()));
    }

    [Theory]
    [InlineData("", "needs 'pattern'")]
    [InlineData(@"^\d+ (\w+)", "no named group")]
    [InlineData("(?<open>", "filter #1 (regex)")]
    public void ARegexWithoutNamedGroupsOrThatDoesNotParseIsAConfigError(string pattern, string fragment)
    {
        var e = Assert.Throws<ArgumentException>(() => Factory.CreateChain([new FilterConfig { Type = "regex", Pattern = pattern }], "test"));
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void DissectSplitsOnTheLiteralsBetweenKeysAndSkipsUnnamedParts()
    {
        var e = Event("""{"message":"[2024-05-01] 10.0.0.1 - GET /orders took 12ms"}""");
        Create(new FilterConfig { Type = "dissect", Pattern = "[%{ts}] %{client} %{} %{method} %{path} took %{duration}", Target = "d" }).Apply(e);
        Assert.Equal("2024-05-01", e.GetString("d.ts"));
        Assert.Equal("10.0.0.1", e.GetString("d.client"));
        Assert.Equal("GET", e.GetString("d.method"));
        Assert.Equal("/orders", e.GetString("d.path"));
        Assert.Equal("12ms", e.GetString("d.duration"));
        Assert.Equal(5, e.Root["d"]!.AsObject().Count);
    }

    [Fact]
    public void DissectLeavesAnEventThatDoesNotFitThePatternUnchanged()
    {
        var e = Event("""{"message":"no brackets here"}""");
        Create(new FilterConfig { Type = "dissect", Pattern = "[%{ts}] %{rest}" }).Apply(e);
        Assert.Null(e.Root["ts"]);
        Assert.Null(e.Root["rest"]);
    }

    [Theory]
    [InlineData("no keys at all", "has no %{key}")]
    [InlineData("%{a}%{b}", "nothing between them")]
    [InlineData("%{a", "not closed")]
    public void ABrokenDissectPatternIsAConfigError(string pattern, string fragment)
    {
        var e = Assert.Throws<ArgumentException>(() => Factory.CreateChain([new FilterConfig { Type = "dissect", Pattern = pattern }], "test"));
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void JsonMergesTheParsedObjectAndKeepsThePipelinesOwnFields()
    {
        var e = Event("""{"message":"{\"user\":\"bob\",\"ms\":12,\"host\":\"app-7\",\"nested\":{\"a\":[1,2]}}","host":{"name":"web-1"}}""");
        Create(new FilterConfig { Type = "json" }).Apply(e);
        Assert.Equal("bob", e.GetString("user"));
        Assert.Equal(12, e.Root["ms"]!.GetValue<int>());
        Assert.Equal(2, e.Root["nested"]!["a"]!.AsArray().Count);
        // The application's "host" does not replace the event's host object.
        Assert.Equal("web-1", e.GetString("host.name"));
        Assert.Equal("app-7", e.GetString("json.host"));
    }

    [Fact]
    public void JsonUnderATargetPutsEverythingThere()
    {
        var e = Event("""{"message":"{\"host\":\"app-7\"}"}""");
        Create(new FilterConfig { Type = "json", Target = "app" }).Apply(e);
        Assert.Equal("app-7", e.GetString("app.host"));
    }

    [Fact]
    public void JsonThatDoesNotParseKeepsTheRawTextAndFlagsTheEvent()
    {
        var e = Event("""{"message":"{not json","log":{"flags":["truncated"]}}""");
        Create(new FilterConfig { Type = "json" }).Apply(e);
        Assert.Equal("{not json", e.GetString("message"));
        Assert.Equal(["truncated", "json_error"], e.Root["log"]!["flags"]!.AsArray().Select(f => f!.GetValue<string>()));

        var bare = Event("""{"message":"[oops"}""");
        Create(new FilterConfig { Type = "json" }).Apply(bare);
        Assert.Equal(["json_error"], bare.Root["log"]!["flags"]!.AsArray().Select(f => f!.GetValue<string>()));
    }

    [Fact]
    public void SampleKeepsOneInNButAlwaysWhatItsWhereMatches()
    {
        var sample = Create(new FilterConfig { Type = "sample", Every = 10, Where = "log.level == \"error\"" });
        int kept = 0;
        for (int i = 0; i < 1000; i++) kept += sample.Apply(Event()) ? 1 : 0;
        Assert.Equal(100, kept);
        for (int i = 0; i < 50; i++) Assert.True(sample.Apply(Event("""{"message":"x","log":{"level":"error"}}""")));
    }

    [Fact]
    public void SampleNeedsEveryOfAtLeastOne()
    {
        Assert.Throws<ArgumentException>(() => Factory.CreateChain([new FilterConfig { Type = "sample", Every = 0 }], "test"));
        var all = Create(new FilterConfig { Type = "sample", Every = 1 });
        Assert.True(all.Apply(Event()) && all.Apply(Event()));
    }

    [Theory]
    [InlineData("WARNING", "warn")]
    [InlineData("Err", "error")]
    [InlineData("information", "info")]
    [InlineData(" CRIT ", "fatal")]
    [InlineData("dbg", "debug")]
    [InlineData("verbose", "trace")]
    public void LevelNormalisesCommonSpellings(string raw, string expected)
    {
        var e = Event($$$"""{"message":"m","log":{"level":"{{{raw}}}"}}""");
        Create(new FilterConfig { Type = "level" }).Apply(e);
        Assert.Equal(expected, e.GetString("log.level"));
    }

    [Fact]
    public void LevelLeavesAnUnknownLevelAndReadsAnotherFieldWhenTold()
    {
        var e = Event("""{"message":"m","log":{"level":"chatty"},"severity":"Warning"}""");
        Create(new FilterConfig { Type = "level" }).Apply(e);
        Create(new FilterConfig { Type = "level", Field = "severity" }).Apply(e);
        Assert.Equal("chatty", e.GetString("log.level"));
        Assert.Equal("warn", e.GetString("severity"));
    }

    [Fact]
    public void WhereLimitsAnyOtherFilterToTheEventsItMatches()
    {
        var add = Create(new FilterConfig { Type = "add_fields", Where = "message startswith \"GET\"", Fields = new() { ["matched"] = "yes" } });
        var get = Event();
        var post = Event("""{"message":"POST /x"}""");
        Assert.True(add.Apply(get));
        Assert.True(add.Apply(post));
        Assert.Equal("yes", get.GetString("matched"));
        Assert.Null(post.GetString("matched"));
        Assert.Equal("add_fields", add.Name);
    }

    [Fact]
    public void AnUnknownTypeNamesTheBuiltIns()
    {
        var e = Assert.Throws<ArgumentException>(() => Factory.CreateChain([new FilterConfig { Type = "drop", Where = "true" }, new FilterConfig { Type = "grok" }], "test"));
        Assert.Contains("filter #2 (grok)", e.Message);
        Assert.Contains("unknown filter type \"grok\"", e.Message);
        Assert.Contains("dissect", e.Message);
    }

    [Fact]
    public void TheLuhnCheckAcceptsRealCardNumbersOnly()
    {
        Assert.True(RedactFilter.PassesLuhn("4111111111111111"));
        Assert.True(RedactFilter.PassesLuhn("5500-0000-0000-0004"));
        Assert.False(RedactFilter.PassesLuhn("4111111111111112"));
        Assert.False(RedactFilter.PassesLuhn("123"));
    }

    [Fact]
    public void AnEventThatIsNotAJsonObjectIsRejected()
        => Assert.ThrowsAny<System.Text.Json.JsonException>(() => FilterEvent.Parse("[1,2]"u8));

    [Fact]
    public void ValuesReadThroughExpressionsKeepTheirJsonTypes()
    {
        var e = Event("""{"n":12.5,"b":true,"s":"x","z":null,"o":{"k":1},"a":[1]}""");
        Assert.Equal(12.5, e.Get(new Pipeline.Plumbing.Expressions.FieldPath("n")).Number);
        Assert.Equal(Pipeline.Plumbing.Expressions.FieldKind.Bool, e.Get(new("b")).Kind);
        Assert.Equal("x", e.Get(new("s")).Text);
        Assert.Equal(Pipeline.Plumbing.Expressions.FieldKind.Null, e.Get(new("z")).Kind);
        Assert.Equal(Pipeline.Plumbing.Expressions.FieldKind.Missing, e.Get(new("nope")).Kind);
        Assert.Equal(Pipeline.Plumbing.Expressions.FieldKind.Object, e.Get(new("o")).Kind);
        Assert.Equal(Pipeline.Plumbing.Expressions.FieldKind.Array, e.Get(new("a")).Kind);
        Assert.Equal(1, e.Get(new("o.k")).Number);
        _ = JsonValue.Create(1);
    }
}
