using System.Diagnostics;
using System.Text.Json;

namespace Pipeline.Testing;

/// <summary>A real Prometheus server (Debian's package) scraping a target on loopback, queried with PromQL.</summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _dir;
    private readonly HttpClient _http = new();

    private PrometheusServer(Process process, TempDirectory dir, int port)
    {
        _process = process;
        _dir = dir;
        Url = new Uri($"http://127.0.0.1:{port}/");
    }

    public Uri Url { get; }

    public static async Task<PrometheusServer> StartAsync(string scrapeTarget, string job = "pipeline")
    {
        var dir = new TempDirectory("prometheus");
        int port = FreePort.Next();
        File.WriteAllText(dir.File("prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: {job}
                static_configs:
                  - targets: ["{scrapeTarget}"]
            """);
        var psi = new ProcessStartInfo(Peers.Find("prometheus") ?? throw new InvalidOperationException("prometheus is not installed"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { $"--config.file={dir.File("prometheus.yml")}", $"--storage.tsdb.path={dir.File("data")}", $"--web.listen-address=127.0.0.1:{port}" })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, dir, port);
        await Eventually.Get(async () =>
        {
            try { return (await server._http.GetAsync(new Uri(server.Url, "-/ready"))).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, ok => ok, TimeSpan.FromSeconds(30), "prometheus ready");
        return server;
    }

    /// <summary>The value of an instant PromQL query with one result, or null while there is none.</summary>
    public async Task<double?> QueryScalarAsync(string promql)
    {
        var json = await _http.GetStringAsync(new Uri(Url, $"api/v1/query?query={Uri.EscapeDataString(promql)}"));
        using var doc = JsonDocument.Parse(json);
        var result = doc.RootElement.GetProperty("data").GetProperty("result");
        if (result.GetArrayLength() == 0) return null;
        return double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Whether Prometheus reports the scrape target as up.</summary>
    public async Task<bool> TargetUpAsync() => await QueryScalarAsync("up") == 1;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _http.Dispose();
        _dir.Dispose();
    }
}
