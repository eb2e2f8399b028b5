using System.Net.Http;
using Pipeline.Testing;
using Pipeline.Testing.Elasticsearch;

namespace Pipeline.EndToEnd.Tests;

/// <summary>Secrets never reach logs, alert lines, `config check` output or /metrics.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class SecretHygieneTests
{
    private const string ApiKey = "SECRET-apikey-4f1c9e";
    private const string BearerToken = "SECRET-bearer-77aa01";
    private const string WebhookSecret = "SECRET-hmac-0d9b3c";

    [Fact]
    public async Task ARunConfiguredWithKnownSecretsPrintsNoneOfThem()
    {
        using var dir = new TempDirectory("secrets");
        Directory.CreateDirectory(dir.File("logs"));
        await using var es = await ElasticsearchTestServer.StartAsync();
        es.RequireApiKey(ApiKey);
        int metricsPort = FreePort.Next();
        var config = dir.File("pipeline.toml");
        File.WriteAllText(config, $$"""
            data_dir = "{{dir.File("data")}}"
            [metrics]
            listen = "127.0.0.1:{{metricsPort}}"
            [[logs.inputs]]
            paths = ["{{dir.File("logs")}}/*.log"]
            start_at = "beginning"
            scan_interval = "100ms"
            [processors]
            default_rules = false
            [[rules]]
            name = "any"
            threshold = 1
            window = "1m"
            [elasticsearch]
            url = "{{es.Url}}"
            api_key = "${env:E2E_ES_KEY}"
            [[alerts.alertmanager]]
            url = "http://127.0.0.1:{{FreePort.Next()}}"
            bearer_token = "{{BearerToken}}"
            [[alerts.webhooks]]
            url = "http://127.0.0.1:{{FreePort.Next()}}/hook"
            secret = "{{WebhookSecret}}"
            """);
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Environment.SetEnvironmentVariable("E2E_ES_KEY", ApiKey);
        File.WriteAllLines(dir.File("logs/app.log"), ["ERROR one", "token=abc in a log line is the user's business"]);

        var check = await PipelineProcess.RunAsync("config", "check", config);
        Assert.Equal(0, check.ExitCode);

        await using var pipeline = PipelineProcess.Start("run", "--config", config);
        await pipeline.WaitForLineAsync(l => l.StartsWith("embedded Kafka broker at", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        // Authenticated with the key from the environment: the documents arrive.
        try
        {
            await Eventually.Get(() => Task.FromResult<int?>(es.Documents("logs-ops.logs-default").Count), n => n == 2, TimeSpan.FromSeconds(60), "documents indexed with the API key");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + "\n" + PipelineProcess.Tail(pipeline.Stderr), e);
        }
        await pipeline.WaitForLineAsync(l => l.Contains("FIRING", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
        await Task.Delay(TimeSpan.FromSeconds(2)); // let the failing alert targets log their retries
        Assert.Equal(0, await pipeline.StopAsync());

        var everything = string.Join("\n", check.Stdout, check.Stderr, pipeline.Stdout, pipeline.Stderr, metrics);
        Assert.Contains("retrying", everything); // the alert targets' failures were logged ...
        foreach (var secret in new[] { ApiKey, BearerToken, WebhookSecret })
            Assert.DoesNotContain(secret, everything); // ... without their secrets
    }

    [Fact]
    public async Task AConfigOtherUsersCanWriteIsRefusedUnlessAllowed()
    {
        using var dir = new TempDirectory("insecure");
        var config = dir.File("agent.toml");
        File.WriteAllText(config, $"data_dir = \"{dir.File("data")}\"\n");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
        var refused = await PipelineProcess.RunAsync("agent", "--config", config);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("writable by other users", refused.Stderr);
        var allowed = await PipelineProcess.RunAsync("agent", "--config", config, "--allow-insecure-config");
        Assert.DoesNotContain("writable by other users", allowed.Stderr);
        Assert.Contains("pipeline broker", allowed.Stderr); // got past the check: now it wants a broker
    }
}
