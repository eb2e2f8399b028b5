namespace Pipeline.Plumbing.Doctor;

/// <summary>How a check came out. Only <see cref="Fail"/> makes <c>pipeline doctor</c> exit non-zero.</summary>
public enum CheckStatus
{
    /// <summary>Works.</summary>
    Ok,

    /// <summary>Works, but something the agent could use is missing (it says what is lost).</summary>
    Warn,

    /// <summary>The agent will not work as configured.</summary>
    Fail,
}

/// <summary>One line of the doctor's report: what was checked, what was found, and what to do about it.</summary>
public sealed record CheckResult(string Check, CheckStatus Status, string Detail, string? Fix = null)
{
    public static CheckResult Ok(string check, string detail) => new(check, CheckStatus.Ok, detail);
    public static CheckResult Warn(string check, string detail, string fix) => new(check, CheckStatus.Warn, detail, fix);
    public static CheckResult Fail(string check, string detail, string fix) => new(check, CheckStatus.Fail, detail, fix);
}
