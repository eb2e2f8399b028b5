namespace Pipeline.Producers.Probes;

/// <summary>
/// The outcome of one run. <see cref="Reason"/> is one stable word a rule or a dashboard can group by
/// (<see cref="ProbeReasons"/>); <see cref="Message"/> is for people.
/// </summary>
public readonly record struct ProbeResult(ProbeStatus Status, string Reason, string Message, double? Value = null)
{
    public static ProbeResult Ok(string message, double? value = null) => new(ProbeStatus.Ok, ProbeReasons.Ok, message, value);

    public static ProbeResult Problem(string reason, string message, double? value = null) => new(ProbeStatus.Problem, reason, message, value);

    public static ProbeResult Unknown(string reason, string message, double? value = null) => new(ProbeStatus.Unknown, reason, message, value);
}

/// <summary>The reasons probes report. Distinct per failure so "DNS broke" and "the service refused" are told apart.</summary>
public static class ProbeReasons
{
    public const string Ok = "ok";
    public const string Threshold = "threshold";
    public const string Timeout = "timeout";
    public const string DnsFailure = "dns_failure";
    public const string ConnectionRefused = "connection_refused";
    public const string ConnectionFailed = "connection_failed";
    public const string TlsError = "tls_error";
    public const string UnexpectedStatus = "unexpected_status";
    public const string BodyMismatch = "body_mismatch";
    public const string Slow = "slow";
    public const string UnexpectedAddress = "unexpected_address";
    public const string ReadOnly = "read_only";
    public const string Missing = "missing";
    public const string Stale = "stale";
    public const string TooFew = "too_few";
    public const string ExitCode = "exit_code";
    public const string Unreadable = "unreadable";
    public const string Hung = "hung";
    public const string Error = "error";
}
