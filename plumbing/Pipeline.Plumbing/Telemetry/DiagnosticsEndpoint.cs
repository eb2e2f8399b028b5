using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// <c>/internal/debug/</c> on its own loopback address: threads, GC and heap, runtime counters, and
/// dumps on demand. Every request passes three gates, in this order: the client address is in the
/// allow-list (403), the bearer token matches in constant time (401), the client is under its rate
/// limit (429). Refusals are logged with the client address, never with the token.
/// </summary>
public sealed class DiagnosticsEndpoint(DebugConfig config, string dataDir, ILogger<DiagnosticsEndpoint> logger) : IHostedService, IDisposable
{
    private readonly IPNetwork[] _allow = config.Allow.Select(IPNetwork.Parse).ToArray();
    private readonly byte[] _token = Encoding.UTF8.GetBytes(config.Token);
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(client =>
        RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = config.RateLimit,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));
    private HttpListener? _listener;
    private Task? _loop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!config.Enabled) return Task.CompletedTask;
        int colon = config.Listen.LastIndexOf(':');
        _listener = new HttpListener();
        _listener.Prefixes.Add($"http://{config.Listen[..colon]}:{config.Listen[(colon + 1)..]}/internal/debug/");
        _listener.Start();
        _loop = Task.Run(ServeAsync, CancellationToken.None);
        logger.LogInformation("diagnostics endpoint at http://{Listen}/internal/debug/ (token required; allowed: {Allow})", config.Listen, string.Join(", ", config.Allow));
        return Task.CompletedTask;
    }

    private async Task ServeAsync()
    {
        while (_listener is { IsListening: true })
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = HandleAsync(context);
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        var client = context.Request.RemoteEndPoint?.Address ?? IPAddress.None;
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        var path = context.Request.Url?.AbsolutePath.TrimEnd('/') ?? "";
        try
        {
            if (!Allowed(client)) { await Refuse(response, 403, client, path, "not in debug.allow").ConfigureAwait(false); return; }
            if (!TokenMatches(context.Request.Headers["Authorization"])) { await Refuse(response, 401, client, path, "missing or wrong bearer token").ConfigureAwait(false); return; }
            using var lease = _limiter.AttemptAcquire(client.ToString());
            if (!lease.IsAcquired) { await Refuse(response, 429, client, path, $"over {config.RateLimit} requests a minute").ConfigureAwait(false); return; }
            object body = path switch
            {
                "/internal/debug/threads" => DebugSnapshots.Threads(),
                "/internal/debug/gc" => DebugSnapshots.Gc(),
                "/internal/debug/runtime" => DebugSnapshots.Runtime(),
                "/internal/debug/dump" when context.Request.HttpMethod == "POST" => await DumpAsync(context.Request.QueryString["type"]).ConfigureAwait(false),
                _ => new Dictionary<string, string> { ["error"] = "unknown endpoint", ["endpoints"] = "threads, gc, runtime, POST dump?type=mini|heap" },
            };
            if (body is Dictionary<string, string> { } error && error.ContainsKey("error")) response.StatusCode = error.ContainsKey("endpoints") ? 404 : 403;
            await Write(response, body).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Whatever went wrong, answer: a diagnostics request must never leave its client hanging.
            logger.LogWarning("diagnostics request {Path} from {Client} failed: {Error}", path, client, e.Message);
            try { response.StatusCode = 500; response.Close(); } catch (InvalidOperationException) { }
        }
    }

    private bool Allowed(IPAddress client)
    {
        foreach (var network in _allow)
        {
            if (network.Contains(client)) return true;
        }
        return false;
    }

    private bool TokenMatches(string? header)
    {
        if (header is null || !header.StartsWith("Bearer ", StringComparison.Ordinal) || _token.Length == 0) return false;
        var given = Encoding.UTF8.GetBytes(header[7..]);
        return CryptographicOperations.FixedTimeEquals(given, _token);
    }

    private async Task<object> DumpAsync(string? type)
    {
        bool heap = type == "heap";
        if (heap && !config.AllowHeapDump)
            return new Dictionary<string, string> { ["error"] = "heap dumps are disabled; set debug.allow_heap_dump = true to allow them" };
        var dir = config.DumpDir.Length > 0 ? config.DumpDir : Path.Combine(dataDir, "dumps");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, $"pipeline-{Environment.ProcessId}-{DateTime.UtcNow:yyyyMMddTHHmmss}.{(heap ? "heap" : "mini")}.dmp");
        // The runtime writes the dump itself, through its diagnostics IPC channel; nothing is loaded into this process.
        await new DiagnosticsClient(Environment.ProcessId).WriteDumpAsync(heap ? DumpType.WithHeap : DumpType.Normal, file, logDumpGeneration: false, CancellationToken.None).ConfigureAwait(false);
        logger.LogWarning("wrote a {Type} dump to {File}", heap ? "heap" : "mini", file);
        return new Dictionary<string, string> { ["file"] = file, ["bytes"] = new FileInfo(file).Length.ToString(System.Globalization.CultureInfo.InvariantCulture) };
    }

    private async Task Refuse(HttpListenerResponse response, int status, IPAddress client, string path, string why)
    {
        logger.LogWarning("diagnostics: refused {Path} from {Client} with {Status}: {Why}", path, client, status, why);
        PipelineMetrics.DebugRefusals.WithLabels(status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        response.StatusCode = status;
        if (status == 401) response.AddHeader("WWW-Authenticate", "Bearer");
        await Write(response, new Dictionary<string, string> { ["error"] = why }).ConfigureAwait(false);
    }

    private static async Task Write(HttpListenerResponse response, object body)
    {
        var bytes = body switch
        {
            Dictionary<string, string> d => JsonSerializer.SerializeToUtf8Bytes(d, DebugJsonContext.Default.DictionaryStringString),
            Dictionary<string, object> d => JsonSerializer.SerializeToUtf8Bytes(d, DebugJsonContext.Default.DictionaryStringObject),
            _ => JsonSerializer.SerializeToUtf8Bytes(body.ToString(), DebugJsonContext.Default.String),
        };
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        response.Close();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _listener?.Stop();
        if (_loop is not null) await _loop.ConfigureAwait(false);
    }

    public void Dispose()
    {
        (_listener as IDisposable)?.Dispose();
        _limiter.Dispose();
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, object>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<Dictionary<string, object>>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(long))]
[System.Text.Json.Serialization.JsonSerializable(typeof(bool))]
[System.Text.Json.Serialization.JsonSerializable(typeof(int))]
[System.Text.Json.Serialization.JsonSerializable(typeof(double))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class DebugJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
