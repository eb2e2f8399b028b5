using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Pipeline.Plumbing.Config;

namespace Pipeline.Sinks.Elasticsearch;

/// <summary>
/// Trust for a cluster whose HTTP certificate is not signed by a public CA, as Elasticsearch's own auto-generated one is:
/// either the CA certificate file (<c>elasticsearch.ca_certificate</c>) or its SHA-256 fingerprint
/// (<c>elasticsearch.ca_fingerprint</c>). The server certificate must chain to that CA, by signature, and name the host
/// connected to; a fingerprint may also pin the server certificate itself.
/// </summary>
public sealed class ClusterCertificateTrust
{
    private readonly X509Certificate2Collection? _authorities;
    private readonly byte[]? _fingerprint;

    private ClusterCertificateTrust(X509Certificate2Collection? authorities, byte[]? fingerprint)
    {
        _authorities = authorities;
        _fingerprint = fingerprint;
    }

    /// <summary>The trust <paramref name="config"/> asks for, or null for the system's trust store.</summary>
    /// <exception cref="ArgumentException">The CA file cannot be read or holds no certificate, or the fingerprint is not SHA-256 hex.</exception>
    public static ClusterCertificateTrust? From(ElasticsearchConfig config)
    {
        if (config.CaCertificate.Length > 0)
        {
            var authorities = new X509Certificate2Collection();
            try
            {
                authorities.ImportFromPemFile(config.CaCertificate);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new ArgumentException($"elasticsearch.ca_certificate: cannot read {config.CaCertificate}: {e.Message}", nameof(config), e);
            }
            if (authorities.Count == 0) throw new ArgumentException($"elasticsearch.ca_certificate: {config.CaCertificate} holds no PEM certificate", nameof(config));
            return new ClusterCertificateTrust(authorities, null);
        }
        if (config.CaFingerprint.Length > 0)
        {
            var hex = config.CaFingerprint.Replace(":", "", StringComparison.Ordinal);
            byte[] fingerprint;
            try
            {
                fingerprint = Convert.FromHexString(hex);
            }
            catch (FormatException e)
            {
                throw new ArgumentException("elasticsearch.ca_fingerprint is not hex", nameof(config), e);
            }
            if (fingerprint.Length != 32) throw new ArgumentException("elasticsearch.ca_fingerprint must be a SHA-256 fingerprint (64 hex digits)", nameof(config));
            return new ClusterCertificateTrust(null, fingerprint);
        }
        return null;
    }

    /// <summary>The TLS validation callback: true when the server's certificate is trusted as configured.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0) return false;
        using var leaf = new X509Certificate2(certificate);
        if (_fingerprint is not null && Matches(leaf)) return true;

        // The server's own chain (what it sent) helps build the path; only the configured CA may be its root.
        var sent = new X509Certificate2Collection();
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements) sent.Add(element.Certificate);
            sent.AddRange(presented.ChainPolicy.ExtraStore);
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.ExtraStore.AddRange(sent);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (_authorities is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
            return chain.Build(leaf);
        }
        // Fingerprint: the path from the server certificate, checked link by link, must pass through the pinned CA. The
        // pinned CA may be an intermediate (then no root is at hand), so an unknown root is not an error here; a broken
        // signature or an expired certificate still is.
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
        if (!chain.Build(leaf)) return false;
        foreach (var element in chain.ChainElements)
        {
            if (Matches(element.Certificate)) return true;
        }
        return false;
    }

    private bool Matches(X509Certificate2 certificate) =>
        CryptographicOperations.FixedTimeEquals(certificate.GetCertHash(HashAlgorithmName.SHA256), _fingerprint);
}
