using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pipeline.Tests.Producers.Probes;

/// <summary>
/// A real HTTP target on loopback for the http probe: <c>/ok</c>, <c>/fail</c> (500), <c>/slow?ms=N</c>, over
/// plain HTTP and over HTTPS with a self-signed certificate no client trusts.
/// </summary>
internal sealed class ProbeTargetServer : IAsyncDisposable
{
    private WebApplication? _app;

    public Uri Http { get; private set; } = null!;
    public Uri Https { get; private set; } = null!;

    public static async Task<ProbeTargetServer> StartAsync()
    {
        var server = new ProbeTargetServer();
        var certificate = SelfSigned();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
        });
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync(TestContext.Current.CancellationToken);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        server.Http = new Uri(addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal)));
        server.Https = new Uri(addresses.First(a => a.StartsWith("https://", StringComparison.Ordinal)));
        server._app = app;
        return server;
    }

    public string Url(string path, bool tls = false) => new Uri(tls ? Https : Http, path).ToString();

    private static async Task HandleAsync(HttpContext context)
    {
        switch (context.Request.Path.Value)
        {
            case "/ok":
                await context.Response.WriteAsync("status: healthy\n");
                break;
            case "/fail":
                context.Response.StatusCode = 500;
                await context.Response.WriteAsync("status: broken\n");
                break;
            case "/slow":
                int ms = int.Parse(context.Request.Query["ms"].ToString() is { Length: > 0 } q ? q : "1000", System.Globalization.CultureInfo.InvariantCulture);
                try { await Task.Delay(ms, context.RequestAborted); }
                catch (OperationCanceledException) { return; }
                await context.Response.WriteAsync("status: healthy, eventually\n");
                break;
            default:
                context.Response.StatusCode = 404;
                break;
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=probe-target.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Round-trip through PKCS#12 so the private key is usable by the TLS stack on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}
