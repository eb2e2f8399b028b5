using System.Net;
using System.Net.Sockets;
using Pipeline.Producers.Probes;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Probes;

/// <summary>http, tcp and dns probes against real targets on loopback; each failure comes back with its own reason.</summary>
[Collection(Pipeline.Tests.Producers.Probes.ProbeTimingCollection.Name)]
public sealed class NetworkProbeTests : IAsyncLifetime
{
    private ProbeTargetServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await ProbeTargetServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AHealthyEndpointIsOkWithItsLatencyAsTheValue()
    {
        var result = await Probes.RunAsync("http", _server.Url("/ok"), c => c.BodyRegex = "healthy");
        Assert.Equal(ProbeStatus.Ok, result.Status);
        Assert.True(result.Value > 0);
    }

    [Fact]
    public async Task A500IsAProblemWithReasonUnexpectedStatus()
    {
        var result = await Probes.RunAsync("http", _server.Url("/fail"));
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.UnexpectedStatus), (result.Status, result.Reason));
        Assert.Contains("500", result.Message);
    }

    [Fact]
    public async Task ABodyThatDoesNotMatchIsAProblem()
    {
        var result = await Probes.RunAsync("http", _server.Url("/ok"), c => c.BodyRegex = "^ready$");
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.BodyMismatch), (result.Status, result.Reason));
    }

    [Fact]
    public async Task ASlowAnswerPastMaxLatencyIsSlowAndPastTheTimeoutIsATimeout()
    {
        var slow = await Probes.RunAsync("http", _server.Url("/slow?ms=400"), c => c.MaxLatency = "100ms");
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.Slow), (slow.Status, slow.Reason));

        var report = await Probes.RunOnceAsync(Probes.Config("http", _server.Url("/slow?ms=5000"), c => c.Timeout = "300ms"));
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.Timeout), (report.Result.Status, report.Result.Reason));
        Assert.InRange(report.DurationMs, 250, 2000);
    }

    [Fact]
    public async Task ASelfSignedCertificateIsATlsErrorUnlessVerificationIsOff()
    {
        var verified = await Probes.RunAsync("http", _server.Url("/ok", tls: true));
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.TlsError), (verified.Status, verified.Reason));

        var unverified = await Probes.RunAsync("http", _server.Url("/ok", tls: true), c => c.TlsVerify = false);
        Assert.Equal(ProbeStatus.Ok, unverified.Status);
    }

    [Fact]
    public async Task AClosedPortIsConnectionRefusedForTcpAndHttp()
    {
        int closed = ClosedPort();
        var tcp = await Probes.RunAsync("tcp", $"127.0.0.1:{closed}");
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.ConnectionRefused), (tcp.Status, tcp.Reason));
        var http = await Probes.RunAsync("http", $"http://127.0.0.1:{closed}/ok");
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.ConnectionRefused), (http.Status, http.Reason));
    }

    [Fact]
    public async Task AnOpenPortIsOk()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var result = await Probes.RunAsync("tcp", $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        Assert.Equal(ProbeStatus.Ok, result.Status);
    }

    [Fact]
    public async Task ANameThatDoesNotResolveIsADnsFailureForDnsTcpAndHttp()
    {
        // RFC 6761: .invalid never resolves, here or anywhere.
        var dns = await Probes.RunAsync("dns", "no-such-host.invalid");
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.DnsFailure), (dns.Status, dns.Reason));
        var tcp = await Probes.RunAsync("tcp", "no-such-host.invalid:80");
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.DnsFailure), (tcp.Status, tcp.Reason));
        var http = await Probes.RunAsync("http", "http://no-such-host.invalid/ok");
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.DnsFailure), (http.Status, http.Reason));
    }

    [Fact]
    public async Task DnsChecksTheExpectedAddress()
    {
        var ok = await Probes.RunAsync("dns", "localhost", c => c.ExpectAddress = "127.0.0.1");
        Assert.Equal(ProbeStatus.Ok, ok.Status);
        var wrong = await Probes.RunAsync("dns", "localhost", c => c.ExpectAddress = "192.0.2.1");
        Assert.Equal((ProbeStatus.Problem, ProbeReasons.UnexpectedAddress), (wrong.Status, wrong.Reason));
    }

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    private static int ClosedPort() => FreePort.Next();
}
