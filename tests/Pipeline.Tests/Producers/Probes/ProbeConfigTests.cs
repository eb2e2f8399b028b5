using Pipeline.Plumbing.Config;

namespace Pipeline.Tests.Producers.Probes;

/// <summary>Bad [[probes]] are config errors at the line and column of the value at fault.</summary>
public sealed class ProbeConfigTests
{
    private static ConfigError Single(string toml)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(toml, "agent.toml"));
        return Assert.Single(e.Errors);
    }

    [Fact]
    public void AValidProbeListLoadsWithItsDefaults()
    {
        var c = ConfigLoader.Parse("""
            [probe_runner]
            concurrency = 4

            [[probes]]
            name = "root-disk"
            type = "disk"
            target = "/"
            condition = "DiskPressure"

            [[probes]]
            name = "check"
            type = "exec"
            argv = ["/usr/local/bin/check", "--quick"]
            failure_threshold = 3

            [[probes]]
            name = "oom"
            type = "kmsg"
            patterns = { OOMKilling = "Killed process \\d+" }
            """, "agent.toml").Config;
        Assert.Equal(3, c.Probes.Count);
        Assert.Equal(4, c.ProbeRunner.Concurrency);
        Assert.Equal(("30s", "5s", 90.0, 1), (c.Probes[0].Interval, c.Probes[0].Timeout, c.Probes[0].MaxUsedPct, c.Probes[0].SuccessThreshold));
        Assert.Equal(["/usr/local/bin/check", "--quick"], c.Probes[1].Argv);
        Assert.Equal(3, c.Probes[1].FailureThreshold);
        Assert.Equal("Killed process \\d+", c.Probes[2].Patterns["OOMKilling"]);
    }

    [Fact]
    public void AnUnknownTypeIsAnErrorAtTheType()
    {
        var error = Single("[[probes]]\nname = \"a\"\ntype = \"load\"\n[[probes]]\nname = \"b\"\ntype = \"ping\"\n");
        Assert.Equal((6, 8), (error.Location.Line, error.Location.Column));
        Assert.Equal("agent.toml", error.Location.File);
        Assert.Contains("unknown type \"ping\"", error.Message);
        Assert.Contains("disk, readonly_fs", error.Message);
    }

    [Fact]
    public void AnInvalidUrlIsAnErrorAtTheTarget()
    {
        var error = Single("[[probes]]\nname = \"web\"\ntype = \"http\"\ntarget = \"localhost:8080/health\"\n");
        Assert.Equal((4, 10), (error.Location.Line, error.Location.Column));
        Assert.Contains("not an http(s) URL", error.Message);
    }

    [Fact]
    public void ARelativeExecPathIsAnErrorAtArgvZero()
    {
        var error = Single("[[probes]]\nname = \"check\"\ntype = \"exec\"\nargv = [\"check.sh\", \"-v\"]\n");
        Assert.Equal((4, 9), (error.Location.Line, error.Location.Column));
        Assert.Contains("must be an absolute path", error.Message);
    }

    [Theory]
    [InlineData("[[probes]]\nname = \"t\"\ntype = \"tcp\"\ntarget = \"db\"\n", 4, "host:port")]
    [InlineData("[[probes]]\nname = \"p\"\ntype = \"process\"\ntarget = 'name = \"sshd\"'\n", 4, "'=='")]
    [InlineData("[[probes]]\nname = \"d\"\ntype = \"disk\"\ninterval = \"often\"\n", 4, "not a duration")]
    [InlineData("[[probes]]\nname = \"d\"\ntype = \"disk\"\nfailure_threshold = 0\n", 4, "at least 1")]
    [InlineData("[[probes]]\nname = \"h\"\ntype = \"http\"\ntarget = \"http://x/\"\nbody_regex = \"(\"\n", 5, "not a valid regex")]
    [InlineData("[[probes]]\nname = \"d\"\ntype = \"disk\"\ncondition = \"disk pressure\"\n", 4, "NodeCondition")]
    [InlineData("[[probes]]\nname = \"d\"\ntype = \"disk\"\n[[probes]]\nname = \"d\"\ntype = \"load\"\n", 5, "used twice")]
    [InlineData("[[probes]]\nname = \"d\"\ntype = \"disk\"\nmax_usd_pct = 5\n", 4, "did you mean 'max_used_pct'")]
    public void OtherMistakesPointAtTheirLine(string toml, int line, string message)
    {
        var error = Single(toml);
        Assert.Equal(line, error.Location.Line);
        Assert.Contains(message, error.Message);
    }
}
