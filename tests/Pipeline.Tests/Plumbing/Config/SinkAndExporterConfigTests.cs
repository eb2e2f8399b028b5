using Pipeline.Plumbing.Config;

namespace Pipeline.Tests.Plumbing.Config;

/// <summary>The [elasticsearch], [sinks] and [exporter] keys: their defaults, and the errors for values that cannot work.</summary>
public class SinkAndExporterConfigTests
{
    [Fact]
    public void TheDefaultsAreTheDocumentedOnes()
    {
        var c = ConfigLoader.Parse("", "empty.toml").Config;
        Assert.Equal(2000, c.Sinks.BatchSize);
        Assert.Equal(5 * 1024 * 1024, c.Sinks.MaxBytes);
        Assert.Equal(2, c.Sinks.InFlight);
        Assert.Equal("500ms", c.Sinks.Linger);
        Assert.Equal(128L * 1024 * 1024, c.Sinks.NdjsonMaxFileBytes);
        Assert.Equal("30d", c.Elasticsearch.IlmDeleteAfter);
        Assert.Equal("1d", c.Elasticsearch.IlmRolloverAfter);
        Assert.Equal("60s", c.Elasticsearch.RequestTimeout);
        Assert.True(c.Exporter.Enabled);
        Assert.Equal("5m", c.Exporter.Staleness);
        Assert.Equal(10_000, c.Exporter.MaxSeriesPerMetric);
        Assert.Equal(10, c.Exporter.ProcessTopN);
    }

    [Fact]
    public void EveryNewKeyLoads()
    {
        var c = ConfigLoader.Parse("""
            [elasticsearch]
            url = "https://es:9200"
            ca_fingerprint = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"
            ilm_delete_after = "7d"
            ilm_rollover_after = "12h"
            request_timeout = "20s"
            [sinks]
            max_bytes = 1048576
            in_flight = 4
            ndjson_max_file_bytes = 1000000
            [exporter]
            staleness = "2m"
            counter_staleness = "30m"
            max_series_per_metric = 500
            process_top_n = 5
            process_filter = 'process.name in ["nginx", "postgres"]'
            group_id = "exp"
            """, "all.toml").Config;
        Assert.Equal("7d", c.Elasticsearch.IlmDeleteAfter);
        Assert.Equal(4, c.Sinks.InFlight);
        Assert.Equal(1_000_000, c.Sinks.NdjsonMaxFileBytes);
        Assert.Equal(5, c.Exporter.ProcessTopN);
    }

    [Theory]
    [InlineData("[sinks]\nin_flight = 0", "sinks.in_flight")]
    [InlineData("[sinks]\nmax_bytes = 10", "sinks.max_bytes")]
    [InlineData("[elasticsearch]\nilm_delete_after = \"forever\"", "elasticsearch.ilm_delete_after")]
    [InlineData("[elasticsearch]\nca_fingerprint = \"abc\"", "elasticsearch.ca_fingerprint")]
    [InlineData("[elasticsearch]\nca_certificate = \"/no/such/ca.crt\"", "elasticsearch.ca_certificate")]
    [InlineData("[exporter]\nstaleness = \"0s\"", "exporter.staleness")]
    [InlineData("[exporter]\nmax_series_per_metric = 0", "exporter.max_series_per_metric")]
    [InlineData("[exporter]\nprocess_filter = 'process.name =='", "exporter.process_filter")]
    public void AValueThatCannotWorkIsAnErrorNamingTheKeyAndItsLine(string toml, string key)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(toml, "bad.toml"));
        var error = Assert.Single(e.Errors);
        Assert.Contains(key.Split('.')[1], error.Message);
        Assert.Equal(2, error.Location.Line);
    }
}
