using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Plumbing.Doctor;

/// <summary>Prints check results: one line each for people, or one JSON document for fleet tooling.</summary>
public static class DoctorReport
{
    public static string Symbol(CheckStatus status) => status switch
    {
        CheckStatus.Ok => "✓",
        CheckStatus.Warn => "!",
        _ => "✗",
    };

    /// <summary><c>✓ check: detail</c>, and for problems <c>; fix: what to do</c>.</summary>
    public static string Text(IEnumerable<CheckResult> results)
    {
        var text = new StringBuilder();
        foreach (var r in results)
        {
            text.Append(Symbol(r.Status)).Append(' ').Append(r.Check).Append(": ").Append(r.Detail);
            if (r.Fix is not null) text.Append("; fix: ").Append(r.Fix);
            text.Append('\n');
        }
        return text.ToString();
    }

    public static string Json(IReadOnlyList<CheckResult> results)
    {
        var report = new JsonReport(
            results.All(r => r.Status != CheckStatus.Fail),
            results.Select(r => new JsonCheck(r.Check, r.Status.ToString().ToLowerInvariant(), r.Detail, r.Fix)).ToList());
        return JsonSerializer.Serialize(report, DoctorJsonContext.Default.JsonReport);
    }

    internal sealed record JsonReport(
        [property: JsonPropertyName("ok")] bool Ok,
        [property: JsonPropertyName("checks")] List<JsonCheck> Checks);

    internal sealed record JsonCheck(
        [property: JsonPropertyName("check")] string Check,
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("detail")] string Detail,
        [property: JsonPropertyName("fix")] string? Fix);
}

[JsonSerializable(typeof(DoctorReport.JsonReport))]
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class DoctorJsonContext : JsonSerializerContext;
