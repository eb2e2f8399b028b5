using System.Text.Json;
using Pipeline.Testing;
using Pipeline.Testing.Elasticsearch;

namespace Pipeline.EndToEnd.Tests;

/// <summary>
/// The single file build/publish.sh produces (artifacts/pipeline), run the way it runs on a host with no
/// .NET: its own runtime, librdkafka extracted from inside it into a fresh directory, and the trimmed
/// assemblies doing everything that uses reflection (TOML config, Streamiz, the Elasticsearch client).
/// </summary>
public class PublishedBinaryTests
{
    // A fresh HOME means a fresh ~/.net extraction directory; DOTNET_ROOT points nowhere so a stray
    // lookup of an installed runtime would fail instead of quietly succeeding.
    private static Dictionary<string, string?> HostWithoutDotnet(TempDirectory dir) => new()
    {
        ["HOME"] = dir.File("home"),
        ["DOTNET_ROOT"] = dir.File("no-dotnet-here"),
        ["DOTNET_BUNDLE_EXTRACT_BASE_DIR"] = null,
        ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
    };

    [Fact]
    public async Task VersionRunsFromTheSingleFileAndExtractsTheLibrdkafkaDebianNeeds()
    {
        if (PipelineProcess.PublishedExecutable is not { } binary) { Assert.Skip(PipelineProcess.NotPublishedReason); return; }
        using var dir = new TempDirectory("published");
        Directory.CreateDirectory(dir.File("home"));
        var r = await Peers.RunAsync(binary, ["version", "--json"], environment: HostWithoutDotnet(dir));
        Assert.True(r.ExitCode == 0, r.ToString());
        var v = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Matches(@"^2\.\d+\.\d+", v.GetProperty("librdkafka").GetString());
        Assert.Contains(".NET 10", v.GetProperty("runtime").GetString());
        // Debian's libsasl2 is .so.2, so Confluent.Kafka falls back to this build: it must be in the bundle.
        var extracted = Directory.GetFiles(dir.File("home/.net"), "*.so", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        Assert.Contains("centos8-librdkafka.so", extracted);
        Assert.DoesNotContain("alpine-librdkafka.so", extracted);
    }

    [Fact]
    public async Task TheSingleFileRunsTheWholePipelineOnItsOwnRuntime()
    {
        if (PipelineProcess.PublishedExecutable is not { } binary) { Assert.Skip(PipelineProcess.NotPublishedReason); return; }
        using var dir = new TempDirectory("published-run");
        Directory.CreateDirectory(dir.File("home"));
        Directory.CreateDirectory(dir.File("logs"));
        await using var es = await ElasticsearchTestServer.StartAsync();
        File.WriteAllText(dir.File("pipeline.toml"), $$"""
            data_dir = "{{dir.File("data")}}"
            host_name = "single-file"
            [metrics]
            listen = "127.0.0.1:{{FreePort.Next()}}"
            [[logs.inputs]]
            paths = ["{{dir.File("logs")}}/*.log"]
            start_at = "beginning"
            scan_interval = "100ms"
            [processors]
            default_rules = false
            [[rules]]
            name = "published-errors"
            where = 'log.level == "error"'
            threshold = 3
            window = "30s"
            [elasticsearch]
            url = "{{es.Url}}"
            [sinks]
            linger = "100ms"
            """);

        await using var pipeline = PipelineProcess.StartExecutable(binary, HostWithoutDotnet(dir), "run", "--config", dir.File("pipeline.toml"));
        await pipeline.WaitForLineAsync(l => l.StartsWith("embedded Kafka broker at", StringComparison.Ordinal), TimeSpan.FromSeconds(90));

        // The runtime is the bundled one, and the embedded broker's P/Invoke found the librdkafka that
        // Confluent.Kafka loaded from the extraction directory (one copy in the process, not two).
        var maps = File.ReadAllLines($"/proc/{pipeline.Id}/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "").Distinct().ToList();
        Assert.DoesNotContain(maps, m => m.Contains("/usr/share/dotnet", StringComparison.Ordinal) || m.EndsWith("libcoreclr.so", StringComparison.Ordinal));
        var librdkafka = Assert.Single(maps, m => m.Contains("librdkafka", StringComparison.Ordinal));
        Assert.StartsWith(dir.File("home/.net/"), librdkafka);

        File.AppendAllLines(dir.File("logs/app.log"), ["ERROR one failed", "ERROR two failed", "ERROR three failed", "INFO fine"]);
        var alerts = await Eventually.Get(() => Task.FromResult<IReadOnlyList<StoredDocument>?>(es.Documents("logs-ops.alerts-default")),
            d => d?.Count >= 1, TimeSpan.FromSeconds(90), "the alert from the single file in Elasticsearch");
        Assert.Equal("published-errors", alerts[0].Source.GetProperty("alert").GetProperty("name").GetString());
        await Eventually.Get(() => Task.FromResult<int?>(es.Documents("logs-ops.logs-default").Count), n => n == 4, TimeSpan.FromSeconds(60), "4 log documents");

        Assert.Equal(0, await pipeline.StopAsync(PipelineProcess.SigTerm));
    }
}
