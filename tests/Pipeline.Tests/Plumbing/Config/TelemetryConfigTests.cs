using Pipeline.Plumbing.Config;

namespace Pipeline.Tests.Plumbing.Config;

/// <summary>The [telemetry] section: off by default, and errors that name the key and where it is.</summary>
public class TelemetryConfigTests
{
    [Fact]
    public void TracingIsOffByDefault()
    {
        var t = ConfigLoader.Parse("", "empty.toml").Config.Telemetry;
        Assert.Equal("", t.OtlpEndpoint);
        Assert.Equal("grpc", t.OtlpProtocol);
        Assert.Equal(0.01, t.SampleRatio);
    }

    [Fact]
    public void EveryKeyLoads()
    {
        var t = ConfigLoader.Parse("""
            [telemetry]
            otlp_endpoint = "http://otel-collector:4318"
            otlp_protocol = "http/protobuf"
            sample_ratio = 0.25
            """, "t.toml").Config.Telemetry;
        Assert.Equal("http://otel-collector:4318", t.OtlpEndpoint);
        Assert.Equal("http/protobuf", t.OtlpProtocol);
        Assert.Equal(0.25, t.SampleRatio);
    }

    [Theory]
    [InlineData("sample_ratio = 1.5", "telemetry.sample_ratio")]
    [InlineData("sample_ratio = -0.1", "telemetry.sample_ratio")]
    [InlineData("otlp_protocol = \"thrift\"", "telemetry.otlp_protocol")]
    [InlineData("otlp_endpoint = \"otel:4317\"", "telemetry.otlp_endpoint")]
    public void ABadValueIsAnErrorNamingItsKeyAndLine(string line, string key)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"[telemetry]\n{line}\n", "bad.toml"));
        var error = Assert.Single(e.Errors);
        Assert.StartsWith("bad.toml:2:", error.Location.ToString());
        Assert.Contains($"'{key}'", error.Message);
    }

    [Fact]
    public void AnUnknownKeyIsRejectedWithTheNearestOne()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("[telemetry]\nsample_rate = 0.5\n", "typo.toml"));
        Assert.Contains("did you mean 'sample_ratio'?", e.Message);
    }
}
