using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Pipeline.Testing;

/// <summary>The real Prometheus Alertmanager (Debian's prometheus-alertmanager) on a loopback port, with its own config and storage.</summary>
public sealed class AlertmanagerServer : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("alertmanager");
    private readonly HttpClient _http = new();
    private Process? _process;

    private AlertmanagerServer(int port) => Url = new Uri($"http://127.0.0.1:{port}/");

    public Uri Url { get; }

    public static string? MissingReason => Peers.MissingReason("prometheus-alertmanager", "prometheus-alertmanager");

    public static async Task<AlertmanagerServer> StartAsync()
    {
        var server = new AlertmanagerServer(FreePort.Next());
        File.WriteAllText(server._dir.File("alertmanager.yml"), """
            route:
              receiver: "null"
            receivers:
              - name: "null"
            """);
        await server.StartProcessAsync();
        return server;
    }

    /// <summary>Starts (again) on the same port and storage, as after an outage.</summary>
    public async Task StartProcessAsync()
    {
        var psi = new ProcessStartInfo(Peers.Find("prometheus-alertmanager")!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { $"--config.file={_dir.File("alertmanager.yml")}", $"--storage.path={_dir.File("data")}",
                     $"--web.listen-address=127.0.0.1:{Url.Port}", "--cluster.listen-address=" })
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Eventually.Get(async () =>
        {
            try { return (await _http.GetAsync(new Uri(Url, "-/ready"))).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, ok => ok, TimeSpan.FromSeconds(30), "alertmanager ready");
    }

    public async Task StopProcessAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    /// <summary><c>GET /api/v2/alerts</c>, including resolved ones still held.</summary>
    public async Task<List<JsonElement>> AlertsAsync(bool includeResolved = false)
    {
        var json = await _http.GetStringAsync(new Uri(Url, "api/v2/alerts"));
        return JsonDocument.Parse(json).RootElement.EnumerateArray().ToList();
    }

    /// <summary>Creates a silence matching <c>label=value</c>; returns its id.</summary>
    public async Task<string> SilenceAsync(string label, string value)
    {
        var body = new
        {
            matchers = new[] { new { name = label, value, isRegex = false, isEqual = true } },
            startsAt = DateTimeOffset.UtcNow.AddSeconds(-1),
            endsAt = DateTimeOffset.UtcNow.AddHours(1),
            createdBy = "pipeline-tests",
            comment = "prove the labels route",
        };
        using var response = await _http.PostAsJsonAsync(new Uri(Url, "api/v2/silences"), body);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("silenceID").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        await StopProcessAsync();
        _process?.Dispose();
        _http.Dispose();
        _dir.Dispose();
    }
}
