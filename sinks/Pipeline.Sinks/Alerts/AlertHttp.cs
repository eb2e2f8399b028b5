using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Pipeline.Sinks.Alerts;

/// <summary>The HTTP client alert targets share: timeouts, connection reuse, and an optional private CA.</summary>
internal static class AlertHttp
{
    public static HttpClient CreateClient(string caFile)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        if (caFile.Length > 0)
        {
            var ca = X509CertificateLoader.LoadCertificateFromFile(caFile);
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                // Trust exactly this CA for this target, not the whole system store.
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null) return false;
                    if (errors == SslPolicyErrors.None) return true;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate));
                },
            };
        }
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
    }
}
