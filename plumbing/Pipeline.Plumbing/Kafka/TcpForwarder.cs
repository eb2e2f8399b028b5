using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Pipeline.Plumbing.Kafka;

/// <summary>
/// Forwards a fixed loopback port to the embedded broker's random one, so users get a bootstrap
/// address that survives restarts. Clients are then told the real broker ports by metadata, which
/// is fine on loopback.
/// </summary>
internal sealed class TcpForwarder : IDisposable
{
    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly ILogger? _logger;
    private readonly CancellationTokenSource _stop = new();

    public TcpForwarder(int listenPort, int targetPort, ILogger? logger)
    {
        _targetPort = targetPort;
        _logger = logger;
        _listener = new TcpListener(IPAddress.Loopback, listenPort);
        try
        {
            _listener.Start();
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"kafka.embedded_port {listenPort}: cannot listen on 127.0.0.1:{listenPort}: {e.Message}", e);
        }
        _ = AcceptLoop();
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                _logger?.LogWarning("embedded broker forwarder: accept failed: {Error}", e.Message);
                continue;
            }
            _ = Pump(client);
        }
    }

    private async Task Pump(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                client.NoDelay = true;
                upstream.NoDelay = true;
                await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token).ConfigureAwait(false);
                var a = client.GetStream();
                var b = upstream.GetStream();
                var up = a.CopyToAsync(b, _stop.Token);
                var down = b.CopyToAsync(a, _stop.Token);
                await Task.WhenAny(up, down).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // A client hanging up is normal.
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
