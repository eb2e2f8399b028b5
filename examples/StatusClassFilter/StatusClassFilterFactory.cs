using Pipeline.Plumbing.Filters;

namespace Pipeline.Examples.StatusClassFilter;

/// <summary>
/// Creates <see cref="StatusClassFilter"/> from its <c>[[...filters]]</c> table. The host finds this class
/// because it is public, not abstract, and implements <see cref="IEventFilterFactory"/>; it needs a
/// public constructor without parameters.
/// </summary>
public sealed class StatusClassFilterFactory : IEventFilterFactory
{
    /// <summary>What <c>type = "..."</c> selects this plugin by. It may not be a built-in's name.</summary>
    public string Type => "status_class";

    /// <summary>
    /// <c>field</c> is where the status code is read (default <c>http.status</c>, e.g. filled by a <c>regex</c>
    /// filter earlier in the chain); <c>target</c> is where the class goes (default <c>http.status_class</c>).
    /// Throwing here (a bad setting) makes the config invalid, with the filter's position in the message.
    /// </summary>
    public IEventFilter Create(FilterConfig config)
    {
        var field = config.Field == "message" ? "http.status" : config.Field;
        var target = config.Target.Length == 0 ? "http.status_class" : config.Target;
        if (field == target) throw new ArgumentException("status_class: 'field' and 'target' must differ");
        return new StatusClassFilter(field, target);
    }
}
