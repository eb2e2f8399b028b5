using Pipeline.Plumbing.Config;

namespace Pipeline.Tests.Plumbing.Config;

public class ConfigLoaderTests
{
    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "testdata", "config", name);

    [Fact]
    public void AnEmptyFileIsValidAndEverySectionHasItsDefault()
    {
        var c = ConfigLoader.Parse("", "empty.toml").Config;
        Assert.Equal("embedded", c.Kafka.Bootstrap);
        Assert.True(c.Kafka.IsEmbedded);
        Assert.Equal("127.0.0.1:9464", c.Metrics.Listen);
        Assert.Equal("./pipeline-data", c.DataDir);
        Assert.Empty(c.Logs.Inputs);
        Assert.Equal("default", c.Elasticsearch.Namespace);
        Assert.Contains(BuiltInRules.Effective(c), r => r.Name == "error-logs");
    }

    [Fact]
    public void AFullConfigLoadsWithEnvironmentSecretsInterpolated()
    {
        Environment.SetEnvironmentVariable("PIPELINE_TEST_APIKEY", "s3cret");
        var c = ConfigLoader.Load(Data("valid.toml")).Config;
        Assert.Equal("web-1", c.EffectiveHostName);
        Assert.False(c.Kafka.IsEmbedded);
        Assert.Equal("s3cret", c.Elasticsearch.ApiKey);
        Assert.Equal("fallback", c.Kafka.Properties["sasl.password"]);
        Assert.Equal("payments", c.Logs.Inputs[0].Fields["team"]);
        Assert.Equal(["host.name", "log.file.path"], c.Rules[0].GroupBy);
        Assert.Equal(100, c.Rules[0].Threshold);
    }

    [Fact]
    public void AnUnknownKeyNamesFileLineColumnAndTheNearestValidKey()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Data("unknown-key.toml")));
        var error = Assert.Single(e.Errors);
        Assert.Equal(4, error.Location.Line);
        Assert.Equal(1, error.Location.Column);
        Assert.EndsWith("unknown-key.toml", error.Location.File);
        Assert.Contains("'bootstrp'", error.Message);
        Assert.Contains("did you mean 'bootstrap'", error.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AWrongTypeNamesTheLineOfTheValue()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Data("wrong-type.toml")));
        Assert.Equal(2, e.Errors[0].Location.Line);
        Assert.Contains("Integer", e.Errors[0].Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ABrokenWhereExpressionPointsIntoTheSecondRule()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Data("bad-where.toml")));
        var error = Assert.Single(e.Errors);
        Assert.Equal(7, error.Location.Line);
        // where = 'log.level = "error"': the value starts at column 9, the '=' is 10 characters into it.
        Assert.Equal(9 + 1 + 10, error.Location.Column);
        Assert.Contains("rule \"broken\"", error.Message);
        Assert.Contains("'=='", error.Message);
    }

    [Fact]
    public void AMissingEnvironmentVariableIsAnErrorAtItsValue()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("[elasticsearch]\napi_key = \"${env:PIPELINE_TEST_UNSET_VARIABLE}\"\n", "x.toml"));
        Assert.Equal(2, e.Errors[0].Location.Line);
        Assert.Contains("PIPELINE_TEST_UNSET_VARIABLE", e.Errors[0].Message);
    }

    [Theory]
    [InlineData("[[rules]]\nname = \"a\"\nwindow = \"fortnight\"\n", 3, "not a duration")]
    [InlineData("[[rules]]\nname = \"a\"\n[[rules]]\nname = \"a\"\n", 4, "used twice")]
    [InlineData("[[rules]]\nname = \"a\"\nsource = \"syslog\"\n", 3, "source \"syslog\"")]
    [InlineData("[[rules]]\nname = \"a\"\nop = \"=>\"\n", 3, "op \"=>\"")]
    [InlineData("[[rules]]\nname = \"a\"\naggregate = \"median(x)\"\n", 3, "unknown aggregate")]
    [InlineData("[kafka]\nbootstrap = \"localhost\"\n", 2, "not host:port")]
    [InlineData("[metrics]\nlisten = \"9464\"\n", 2, "not host:port")]
    [InlineData("[[logs.inputs]]\npaths = [\"/x\"]\nstart_at = \"middle\"\n", 3, "\"beginning\" or \"end\"")]
    [InlineData("[elasticsearch]\nnamespace = \"prod-eu\"\n", 2, "without '-'")]
    [InlineData("[logs]\ninputs = 3\n", 2, "")]
    [InlineData("[rules]\nname = \"a\"\n", 1, "[[rules]]")]
    [InlineData("data_dir = \"/x\"\ndata_dir = \"/y\"\n", 2, "")]
    [InlineData("[kafka\n", 1, "")]
    [InlineData("[process]\ninterval = \"often\"\n", 2, "not a duration")]
    [InlineData("[process]\nsample = \"some\"\n", 2, "\"all\" or \"top\"")]
    [InlineData("[process]\ntop_by = \"io\"\n", 2, "\"cpu\" or \"memory\"")]
    [InlineData("[process]\nspool_max_bytes = 1000\n", 2, "at least 1048576")]
    [InlineData("[process]\ncpu_highlight = -1\n", 2, "0 or more")]
    [InlineData("[process]\nintervall = \"5s\"\n", 2, "did you mean 'interval'")]
    [InlineData("[[process.labels]]\nname = \"nginx\"\n", 1, "has no 'set'")]
    [InlineData("[[process.labels]]\nset = { app = \"x\" }\n", 1, "matches nothing")]
    [InlineData("[[process.labels]]\ncmdline = \"java (\"\nset = { app = \"x\" }\n", 2, "not a valid regular expression")]
    [InlineData("[[process.labels]]\nname = \"a\"\nset = { \"a.b\" = \"x\" }\n", 3, "without '.'")]
    [InlineData("[processors]\nstall_timeout = \"3s\"\n", 2, "0 (off) or at least 10s")]
    [InlineData("[processors]\nstall_timeout = \"soon\"\n", 2, "not a duration")]
    public void EveryBadValueIsReportedAtItsLine(string toml, int line, string fragment)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(toml, "t.toml"));
        Assert.Equal(line, e.Errors[0].Location.Line);
        Assert.Contains(fragment, e.Errors[0].Message);
    }

    [Fact]
    public void TheProcessSectionHasDefaultsAndLoadsLabelRules()
    {
        var defaults = ConfigLoader.Parse("", "empty.toml").Config.Process;
        Assert.True(defaults.Enabled);
        Assert.Equal("10s", defaults.Interval);
        Assert.Equal("all", defaults.Sample);
        Assert.Equal(50, defaults.CpuHighlight);
        Assert.Equal("/proc", defaults.ProcRoot);
        Assert.Equal(64L * 1024 * 1024, defaults.SpoolMaxBytes);

        var c = ConfigLoader.Load(Data("valid.toml")).Config.Process;
        Assert.Equal("top", c.Sample);
        Assert.Equal(15, c.TopN);
        Assert.Equal("user != \"root\" && rss > 10MiB", c.Where);
        var rule = Assert.Single(c.Labels);
        Assert.Equal("java .*-jar /srv/billing", rule.Cmdline);
        Assert.Equal("billing", rule.Set["app"]);
    }

    [Fact]
    public void ABrokenProcessFilterPointsIntoItsString()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("[process]\nwhere = 'rss > 5XB'\n", "t.toml"));
        var error = Assert.Single(e.Errors);
        Assert.Equal(2, error.Location.Line);
        // The value starts at column 9; the unit is 7 characters into the expression.
        Assert.Equal(9 + 1 + 7, error.Location.Column);
        Assert.Contains("unknown unit 'XB'", error.Message);
    }

    [Fact]
    public void TheEffectiveConfigPrintoutMasksSecretsAndReloads()
    {
        Environment.SetEnvironmentVariable("PIPELINE_TEST_APIKEY", "s3cret");
        var c = ConfigLoader.Load(Data("valid.toml")).Config;
        var printed = ConfigPrinter.ToToml(c);
        Assert.DoesNotContain("s3cret", printed);
        Assert.DoesNotContain("fallback", printed);
        Assert.Contains(ConfigPrinter.Mask, printed);
        Assert.Equal("s3cret", c.Elasticsearch.ApiKey); // the live config is untouched
        var reloaded = ConfigLoader.Parse(printed, "printed.toml").Config;
        Assert.Equal(c.Rules[0].Where, reloaded.Rules[0].Where);
        Assert.Equal(c.Logs.Inputs[0].Paths, reloaded.Logs.Inputs[0].Paths);
    }

    [Fact]
    public void DurationsParseAsUsersWriteThem()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(500), Duration.Parse("500ms"));
        Assert.Equal(TimeSpan.FromSeconds(90), Duration.Parse("1m30s"));
        Assert.Equal(TimeSpan.FromHours(1), Duration.Parse("1h"));
        Assert.False(Duration.TryParse("5 minutes", out _));
        Assert.Equal("1m", Duration.Format(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void AUserRuleReplacesTheBuiltInOfTheSameNameAndCanTurnItOff()
    {
        var c = ConfigLoader.Parse("[[rules]]\nname = \"error-logs\"\nenabled = false\n", "t.toml").Config;
        Assert.DoesNotContain(BuiltInRules.Effective(c), r => r.Name == "error-logs");
        var off = ConfigLoader.Parse("[processors]\ndefault_rules = false\n", "t.toml").Config;
        Assert.Empty(BuiltInRules.Effective(off));
    }
}

public class ConfigLoaderRegressionTests
{
    [Fact]
    public void AnEscapeNamingASurrogateIsAConfigErrorNotACrash()
    {
        // Found by the fuzzer: Tomlyn throws ArgumentOutOfRangeException on this instead of a diagnostic.
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("data_dir = \"\\uD800\"\n", "s.toml"));
        Assert.Equal("s.toml", e.Errors[0].Location.File);
    }
}
