using System.Reflection;
using Streamiz.Kafka.Net.Processors.Public;

namespace Pipeline.Processors.Rules;

/// <summary>
/// Whether the Streamiz task behind a processor context has finished restoring its stores and runs. Streamiz 1.8.2
/// punctuates a task while it restores (TaskManager.Punctuate walks every active task) and has no public way to ask
/// for its state, so this reads it by reflection, resolved once: the context a transformer gets
/// (<c>ProcessorContext&lt;K, V&gt;</c>) wraps the task's context in its private <c>context</c> field, and that one
/// holds the internal <c>Task</c>, whose <c>State</c> is the task's.
/// <c>StreamizTaskTests</c> fails if an upgrade moves either member; until then a context whose task cannot be read
/// counts as running, which is what the evaluator did before it asked.
/// </summary>
internal static class StreamizTask
{
    private static readonly FieldInfo? InnerContext =
        typeof(ProcessorContext<string, byte[]>).GetField("context", BindingFlags.Instance | BindingFlags.NonPublic);

    private static readonly PropertyInfo? TaskProperty =
        typeof(Streamiz.Kafka.Net.ProcessorContext).GetProperty("Task", BindingFlags.Instance | BindingFlags.NonPublic);

    private static PropertyInfo? _stateProperty;

    /// <summary>True when the members this reads exist in the Streamiz version loaded.</summary>
    public static bool Resolvable => InnerContext?.FieldType == typeof(Streamiz.Kafka.Net.ProcessorContext)
        && TaskProperty?.PropertyType.GetProperty("State", BindingFlags.Instance | BindingFlags.Public) is not null;

    public static bool IsRunning(ProcessorContext<string, byte[]> context)
    {
        var state = State(context);
        return state is null || state == "RUNNING";
    }

    /// <summary>The task's state (CREATED, RESTORING, RUNNING...), or null when it cannot be read.</summary>
    internal static string? State(ProcessorContext<string, byte[]> context)
    {
        var inner = InnerContext?.GetValue(context);
        var task = inner is null ? null : TaskProperty?.GetValue(inner);
        if (task is null) return null;
        _stateProperty ??= task.GetType().GetProperty("State", BindingFlags.Instance | BindingFlags.Public);
        return _stateProperty?.GetValue(task)?.ToString();
    }
}
