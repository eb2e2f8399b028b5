namespace Pipeline.Plumbing.Filters;

/// <summary>
/// A filter plugin. The same interface and the same implementations run at the edge (in the log
/// tailer, per input) and in the stream processors (per source topic). Custom plugins implement it in
/// their own assembly (see examples/).
/// </summary>
public interface IEventFilter
{
    /// <summary>Short name for logs and metric labels, e.g. <c>redact</c>.</summary>
    string Name { get; }

    /// <summary>Changes <paramref name="e"/> in place. Returns false to drop the event.</summary>
    bool Apply(FilterEvent e);
}

/// <summary>Creates a plugin from its <c>[[...filters]]</c> table. Custom plugin assemblies export one of these.</summary>
public interface IEventFilterFactory
{
    /// <summary>The <c>type</c> value that selects this plugin.</summary>
    string Type { get; }

    IEventFilter Create(FilterConfig config);
}
