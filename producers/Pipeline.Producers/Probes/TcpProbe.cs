using System.Net.Sockets;
using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Probes;

/// <summary><c>tcp</c>: a connection to <c>host:port</c> is accepted. Value: connect time in ms.</summary>
public sealed class TcpProbe : IProbe
{
    private readonly string _host;
    private readonly int _port;

    public TcpProbe(ProbeConfig config)
    {
        Target = config.Target;
        int colon = config.Target.LastIndexOf(':');
        _host = config.Target[..colon].Trim('[', ']');
        _port = int.Parse(config.Target.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture);
    }

    public string Target { get; }

    public async ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(_host, _port, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            return NetworkFailure.Classify(e, Target);
        }
        double ms = Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, 2);
        socket.Shutdown(SocketShutdown.Both);
        return ProbeResult.Ok($"{Target} accepted a connection in {ms} ms", ms);
    }
}
