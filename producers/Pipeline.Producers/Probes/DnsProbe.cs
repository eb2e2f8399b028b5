using System.Net;
using System.Net.Sockets;
using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Probes;

/// <summary><c>dns</c>: the name resolves within the timeout, to <c>expect_address</c> when one is set. Value: resolution time in ms.</summary>
public sealed class DnsProbe(ProbeConfig config) : IProbe
{
    private readonly IPAddress? _expected = config.ExpectAddress.Length > 0 ? IPAddress.Parse(config.ExpectAddress) : null;

    public string Target { get; } = config.Target;

    public async ValueTask<ProbeResult> RunAsync(CancellationToken cancellationToken)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(Target, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            return NetworkFailure.Classify(e, Target);
        }
        double ms = Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, 2);
        if (addresses.Length == 0) return ProbeResult.Problem(ProbeReasons.DnsFailure, $"{Target} resolved to no address", ms);
        if (_expected is not null && Array.IndexOf(addresses, _expected) < 0)
            return ProbeResult.Problem(ProbeReasons.UnexpectedAddress, $"{Target} resolved to {string.Join(", ", (object[])addresses)}, not {_expected}", ms);
        return ProbeResult.Ok($"{Target} resolved to {string.Join(", ", (object[])addresses)}", ms);
    }
}
