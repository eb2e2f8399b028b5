using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Testing;

namespace Pipeline.Tests.Plumbing.Telemetry;

public class DiagnosticsEndpointTests
{
    private const string Token = "debug-token-0123456789";

    private static async Task<(DiagnosticsEndpoint Endpoint, Uri Base)> Start(Action<DebugConfig>? tweak = null)
    {
        int port = FreePort.Next();
        var config = new DebugConfig { Enabled = true, Listen = $"127.0.0.1:{port}", Token = Token, RateLimit = 3 };
        tweak?.Invoke(config);
        var endpoint = new DiagnosticsEndpoint(config, Path.GetTempPath(), NullLogger<DiagnosticsEndpoint>.Instance);
        await endpoint.StartAsync(CancellationToken.None);
        return (endpoint, new Uri($"http://127.0.0.1:{port}/internal/debug/"));
    }

    private static async Task<HttpResponseMessage> Get(Uri url, string? token, HttpMethod? method = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, url);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task WithTheTokenFromAnAllowedAddressItAnswers()
    {
        var (endpoint, url) = await Start();
        using (endpoint)
        {
            var gc = await Get(new Uri(url, "gc"), Token);
            Assert.Equal(HttpStatusCode.OK, gc.StatusCode);
            Assert.True(JsonDocument.Parse(await gc.Content.ReadAsStringAsync()).RootElement.GetProperty("heap_bytes").GetInt64() > 0);
            var threads = await Get(new Uri(url, "threads"), Token);
            Assert.True(JsonDocument.Parse(await threads.Content.ReadAsStringAsync()).RootElement.GetProperty("count").GetInt32() > 1);
            await endpoint.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task WithoutTheRightTokenItIs401()
    {
        var (endpoint, url) = await Start();
        using (endpoint)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await Get(new Uri(url, "gc"), null)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await Get(new Uri(url, "gc"), Token + "x")).StatusCode);
            await endpoint.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task FromOutsideTheAllowListItIs403EvenWithTheToken()
    {
        var (endpoint, url) = await Start(c => c.Allow = ["10.0.0.0/8"]);
        using (endpoint)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await Get(new Uri(url, "gc"), Token)).StatusCode);
            await endpoint.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task OverTheRateLimitItIs429()
    {
        var (endpoint, url) = await Start();
        using (endpoint)
        {
            for (int i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await Get(new Uri(url, "runtime"), Token)).StatusCode);
            Assert.Equal((HttpStatusCode)429, (await Get(new Uri(url, "runtime"), Token)).StatusCode);
            await endpoint.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task AHeapDumpIsRefusedUnlessExplicitlyAllowed()
    {
        var (endpoint, url) = await Start();
        using (endpoint)
        {
            var r = await Get(new Uri(url, "dump?type=heap"), Token, HttpMethod.Post);
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            Assert.Contains("allow_heap_dump", await r.Content.ReadAsStringAsync());
            await endpoint.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public void TheConfigRefusesAnEndpointWithoutATokenOrOnTheMetricsPort()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("[debug]\nenabled = true\nlisten = \"127.0.0.1:9464\"\n", "d.toml"));
        Assert.Contains(e.Errors, x => x.Message.Contains("metrics.listen", StringComparison.Ordinal));
        Assert.Contains(e.Errors, x => x.Message.Contains("debug.token", StringComparison.Ordinal));
    }
}
