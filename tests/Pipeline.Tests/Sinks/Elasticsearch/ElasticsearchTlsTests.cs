using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Sinks;
using Pipeline.Sinks.Elasticsearch;
using Pipeline.Testing;
using Pipeline.Testing.Elasticsearch;

namespace Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>HTTPS to a cluster with its own CA, as Elasticsearch sets itself up: trusted by CA file or by fingerprint, refused otherwise.</summary>
[Collection(ElasticsearchSinkCollection.Name)]
public sealed class ElasticsearchTlsTests : IAsyncLifetime
{
    private readonly TestCertificates _certificates = TestCertificates.Create();
    private readonly TempDirectory _dir = new("es-tls");
    private ElasticsearchTestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _server = await ElasticsearchTestServer.StartAsync(true, _certificates.Server, [_certificates.Intermediate], Ct);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _certificates.Dispose();
        _dir.Dispose();
    }

    private async Task<IReadOnlyList<ItemResult>> WriteThrough(ElasticsearchConfig config)
    {
        config.Url = _server.Url.ToString();
        await using var writer = ElasticsearchBulkWriter.Create(config, NullLogger.Instance, TimeSpan.FromSeconds(10));
        await writer.InitializeAsync(Ct);
        return await writer.WriteAsync(SampleEvents.LogRecords(2), Ct);
    }

    [Fact]
    public async Task TheClusterIsTrustedThroughItsCaCertificateFile()
    {
        Assert.Equal("https", _server.Url.Scheme);
        var ca = _dir.File("http_ca.crt");
        _certificates.WriteAuthorityPem(ca);

        var results = await WriteThrough(new ElasticsearchConfig { CaCertificate = ca, ApiKey = "" });

        Assert.All(results, r => Assert.Equal(ItemOutcome.Created, r.Outcome));
    }

    [Fact]
    public async Task TheClusterIsTrustedThroughTheFingerprintOfTheCaItSends()
    {
        var results = await WriteThrough(new ElasticsearchConfig { CaFingerprint = _certificates.IntermediateFingerprint });

        Assert.All(results, r => Assert.Equal(ItemOutcome.Created, r.Outcome));
    }

    [Fact]
    public async Task TheClusterIsTrustedThroughTheFingerprintOfItsOwnCertificate()
    {
        var results = await WriteThrough(new ElasticsearchConfig { CaFingerprint = _certificates.ServerFingerprint.ToLowerInvariant() });

        Assert.All(results, r => Assert.Equal(ItemOutcome.Created, r.Outcome));
    }

    [Fact]
    public async Task WithoutTrustTheSetupFailsAndSaysSo()
    {
        var error = await Assert.ThrowsAsync<ElasticsearchSetupException>(() => WriteThrough(new ElasticsearchConfig()));

        Assert.Contains(_server.Url.Authority, error.Message);
    }

    [Fact]
    public async Task AnotherCasCertificateOrAWrongFingerprintIsRefused()
    {
        using var other = TestCertificates.Create("Someone Else's CA");
        var otherCa = _dir.File("other.crt");
        other.WriteAuthorityPem(otherCa);

        await Assert.ThrowsAsync<ElasticsearchSetupException>(() => WriteThrough(new ElasticsearchConfig { CaCertificate = otherCa }));
        await Assert.ThrowsAsync<ElasticsearchSetupException>(() => WriteThrough(new ElasticsearchConfig { CaFingerprint = other.AuthorityFingerprint }));
    }

    [Fact]
    public async Task AnApiKeyFromTheEnvironmentReachesTheCluster()
    {
        const string key = "ZW52OmtleQ==";
        Environment.SetEnvironmentVariable("PIPELINE_TLS_TEST_KEY", key);
        _server.RequireApiKey(key);
        var ca = _dir.File("ca.crt");
        _certificates.WriteAuthorityPem(ca);
        var loaded = ConfigLoader.Parse($"[elasticsearch]\nurl = \"{_server.Url}\"\napi_key = \"${{env:PIPELINE_TLS_TEST_KEY}}\"\nca_certificate = \"{ca}\"\n", "tls.toml");

        var results = await WriteThrough(loaded.Config.Elasticsearch);

        Assert.All(results, r => Assert.Equal(ItemOutcome.Created, r.Outcome));
        Assert.All(_server.Requests, r => Assert.Equal("ApiKey " + key, r.Authorization));
    }
}
