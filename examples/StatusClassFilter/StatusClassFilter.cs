using System.Text.Json.Nodes;
using Pipeline.Plumbing.Filters;

namespace Pipeline.Examples.StatusClassFilter;

/// <summary>
/// Turns an HTTP status code into its class ("404" -> "4xx"), so dashboards and rules can count errors by
/// class without a regular expression. Keeps every event (returns true); an event without the field is
/// left alone. A status that is not a number throws: the chain then sends the event on unfiltered or
/// dead-letters it, as the filter's <c>on_error</c> says, and counts it, so one bad line never stops an input.
/// </summary>
public sealed class StatusClassFilter(string field, string target) : IEventFilter
{
    public string Name => "status_class";

    public bool Apply(FilterEvent e)
    {
        var status = e.GetString(field);
        if (status is null) return true;
        if (status.Length != 3 || !int.TryParse(status, out int code) || code < 100)
            throw new FormatException($"'{field}' = \"{status}\" is not an HTTP status code");
        e.Set(target, JsonValue.Create($"{status[0]}xx"));
        return true;
    }
}
