using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>
/// A private CA and an HTTP certificate it signed for 127.0.0.1 and localhost: what Elasticsearch generates on its first
/// start (config/certs/http_ca.crt and http.p12), for TLS tests against the test server. Between them sits an
/// intermediate CA that the server sends along with its certificate. (Elasticsearch sends its self-signed CA itself,
/// which a .NET server never does: it leaves the root out of the chain it sends. So a test that trusts "the CA the
/// server sends" by fingerprint pins the intermediate.)
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(X509Certificate2 authority, X509Certificate2 intermediate, X509Certificate2 server)
    {
        Authority = authority;
        Intermediate = intermediate;
        Server = server;
    }

    /// <summary>The intermediate CA the server sends with its certificate.</summary>
    public X509Certificate2 Intermediate { get; }

    /// <summary>Hex SHA-256 of the intermediate CA certificate, colon-separated.</summary>
    public string IntermediateFingerprint => Fingerprint(Intermediate);

    /// <summary>Hex SHA-256 of the server's own certificate, colon-separated.</summary>
    public string ServerFingerprint => Fingerprint(Server);

    /// <summary>The CA (public part only, as a client would hold it).</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>The server certificate with its private key.</summary>
    public X509Certificate2 Server { get; }

    /// <summary>Hex SHA-256 of the CA certificate, colon-separated like Elasticsearch prints it.</summary>
    public string AuthorityFingerprint => Fingerprint(Authority);

    private static string Fingerprint(X509Certificate2 certificate) =>
        string.Join(':', Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)).Chunk(2).Select(c => new string(c)));

    /// <summary>Writes the CA as a PEM file, like http_ca.crt.</summary>
    public void WriteAuthorityPem(string path) => File.WriteAllText(path, Authority.ExportCertificatePem());

    public static TestCertificates Create(string authorityName = "Pipeline Test CA")
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest($"CN={authorityName}", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var caWithKey = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var intermediateKey = RSA.Create(2048);
        var intermediateRequest = new CertificateRequest($"CN={authorityName} HTTP", intermediateKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var intermediateSigned = intermediateRequest.Create(caWithKey, now.AddDays(-1), now.AddDays(29), Serial());
        using var intermediateWithKey = intermediateSigned.CopyWithPrivateKey(intermediateKey);

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var signed = serverRequest.Create(intermediateWithKey, now.AddDays(-1), now.AddDays(28), Serial());
        // Through PKCS#12 so the key is usable by the TLS stack on every platform.
        var server = X509CertificateLoader.LoadPkcs12(signed.CopyWithPrivateKey(serverKey).Export(X509ContentType.Pkcs12), null);
        var authority = X509CertificateLoader.LoadCertificate(caWithKey.Export(X509ContentType.Cert));
        var intermediate = X509CertificateLoader.LoadCertificate(intermediateSigned.Export(X509ContentType.Cert));
        return new TestCertificates(authority, intermediate, server);
    }

    private static byte[] Serial()
    {
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7f;
        return serial;
    }

    public void Dispose()
    {
        Authority.Dispose();
        Intermediate.Dispose();
        Server.Dispose();
    }
}
