using System.Net.Http;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Pipeline.Producers.Probes;

/// <summary>
/// Maps what .NET throws for a failed connection to the probe reasons, so DNS, a refused port and a bad
/// certificate are told apart instead of all being "connection failed".
/// </summary>
internal static class NetworkFailure
{
    public static ProbeResult Classify(Exception e, string what)
    {
        var socket = Find<SocketException>(e);
        if (e is HttpRequestException http)
        {
            switch (http.HttpRequestError)
            {
                case HttpRequestError.NameResolutionError:
                    return ProbeResult.Problem(ProbeReasons.DnsFailure, $"{what}: the host name did not resolve: {Innermost(e)}");
                case HttpRequestError.SecureConnectionError:
                    return ProbeResult.Problem(ProbeReasons.TlsError, $"{what}: TLS handshake failed: {Innermost(e)}");
            }
        }
        if (Find<AuthenticationException>(e) is { } tls)
            return ProbeResult.Problem(ProbeReasons.TlsError, $"{what}: TLS handshake failed: {tls.Message}");
        if (socket is not null)
        {
            return socket.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => ProbeResult.Problem(ProbeReasons.ConnectionRefused, $"{what}: connection refused"),
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain =>
                    ProbeResult.Problem(ProbeReasons.DnsFailure, $"{what}: the host name did not resolve: {socket.Message}"),
                SocketError.TimedOut => ProbeResult.Problem(ProbeReasons.Timeout, $"{what}: connection timed out"),
                _ => ProbeResult.Problem(ProbeReasons.ConnectionFailed, $"{what}: {socket.Message} ({socket.SocketErrorCode})"),
            };
        }
        return ProbeResult.Problem(ProbeReasons.ConnectionFailed, $"{what}: {Innermost(e)}");
    }

    private static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T match) return match;
        }
        return null;
    }

    private static string Innermost(Exception e) => e.GetBaseException().Message;
}
