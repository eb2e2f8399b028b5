using Pipeline.Plumbing.Config;

namespace Pipeline.Tests.Plumbing.Config;

/// <summary>The log input keys added for multiline, JSON, encodings and back-pressure: defaults, and errors at their place.</summary>
public class LogInputConfigTests
{
    [Fact]
    public void TheNewKeysHaveTheirDocumentedDefaults()
    {
        var c = ConfigLoader.Parse("[[logs.inputs]]\npaths = [\"/x/*.log\"]\n", "d.toml").Config;
        var input = c.Logs.Inputs[0];
        Assert.Equal("utf-8", input.Encoding);
        Assert.False(input.Json);
        Assert.False(input.Multiline.Enabled);
        Assert.Equal("after", input.Multiline.Match);
        Assert.Equal(500, input.Multiline.MaxLines);
        Assert.Equal("5s", input.Multiline.Timeout);
        Assert.Equal(4 * 1024 * 1024, c.Logs.MaxInFlightBytes);
    }

    [Fact]
    public void AFullMultilineTableLoads()
    {
        var c = ConfigLoader.Parse("""
            [logs]
            max_in_flight_bytes = 1048576
            [[logs.inputs]]
            paths = ["/x/*.log"]
            encoding = "utf-16le"
            json = true
            [logs.inputs.multiline]
            pattern = '^\d{4}-'
            negate = true
            match = "before"
            max_lines = 20
            timeout = "1s"
            """, "m.toml").Config;
        var m = c.Logs.Inputs[0].Multiline;
        Assert.True(m.Enabled);
        Assert.Equal(@"^\d{4}-", m.Pattern);
        Assert.True(m.Negate);
        Assert.Equal("before", m.Match);
        Assert.Equal(20, m.MaxLines);
        Assert.Equal("1s", m.Timeout);
        Assert.True(c.Logs.Inputs[0].Json);
        Assert.Equal("utf-16le", c.Logs.Inputs[0].Encoding);
        Assert.Equal(1048576, c.Logs.MaxInFlightBytes);
    }

    [Theory]
    [InlineData("encoding = \"utf-32\"", 3, 12, "'encoding' = \"utf-32\" must be one of utf-8, utf-16le, utf-16be, latin-1")]
    [InlineData("[logs.inputs.multiline]\npattern = '(unclosed'", 4, 11, "not a valid regular expression")]
    [InlineData("[logs.inputs.multiline]\npattern = 'x'\nmatch = \"around\"", 5, 9, "must be \"after\" or \"before\"")]
    [InlineData("[logs.inputs.multiline]\npattern = 'x'\nmax_lines = 0", 5, 13, "'max_lines' must be at least 1")]
    [InlineData("[logs.inputs.multiline]\npattern = 'x'\ntimeout = \"soon\"", 5, 11, "is not a duration")]
    [InlineData("[logs.inputs.multiline]\npatern = 'x'", 4, 1, "did you mean 'pattern'")]
    public void AWrongValueIsReportedAtItsLineAndColumn(string extra, int line, int column, string fragment)
    {
        var text = $"[[logs.inputs]]\npaths = [\"/x/*.log\"]\n{extra}\n";
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(text, "bad.toml"));
        var error = Assert.Single(e.Errors);
        Assert.Contains(fragment, error.Message);
        Assert.Equal(("bad.toml", line, column), (error.Location.File, error.Location.Line, error.Location.Column));
    }

    [Fact]
    public void ATooSmallInFlightLimitIsRejected()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("[logs]\nmax_in_flight_bytes = 1000\n", "small.toml"));
        Assert.Contains("at least 65536", e.Errors[0].Message);
        Assert.Equal(2, e.Errors[0].Location.Line);
    }
}
