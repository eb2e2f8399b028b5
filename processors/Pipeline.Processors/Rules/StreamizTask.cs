using System.Reflection;
using Streamiz.Kafka.Net.Processors.Public;

namespace Pipeline.Processors.Rules;

/// <summary>
/// Whether the Streamiz task behind a processor context has finished restoring its stores and runs. Streamiz 1.8.2
/// punctuates a task while it restores (TaskManager.Punctuate walks every active task) and has no public way to ask
/// for its state, so this reads the internal <c>ProcessorContext.Task.State</c> by reflection, resolved once.
/// <c>StreamizTaskTests</c> fails if an upgrade moves either member; until then a context whose task cannot be read
/// counts as running, which is what the evaluator did before it asked.
/// </summary>
internal static class StreamizTask
{
    private static readonly PropertyInfo? TaskProperty =
        typeof(Streamiz.Kafka.Net.ProcessorContext).GetProperty("Task", BindingFlags.Instance | BindingFlags.NonPublic);

    private static PropertyInfo? _stateProperty;

    /// <summary>True when the members this reads exist in the Streamiz version loaded.</summary>
    public static bool Resolvable => TaskProperty?.PropertyType.GetProperty("State", BindingFlags.Instance | BindingFlags.Public) is not null;

    public static bool IsRunning(ProcessorContext<string, byte[]> context)
    {
        var state = State(context);
        return state is null || state == "RUNNING";
    }

    private static string? State(ProcessorContext<string, byte[]> context)
    {
        var task = TaskProperty?.GetValue(context);
        if (task is null) return null;
        _stateProperty ??= task.GetType().GetProperty("State", BindingFlags.Instance | BindingFlags.Public);
        return _stateProperty?.GetValue(task)?.ToString();
    }
}
