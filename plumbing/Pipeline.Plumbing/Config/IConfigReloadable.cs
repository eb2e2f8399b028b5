namespace Pipeline.Plumbing.Config;

/// <summary>
/// A component that takes a changed config without a restart (see <see cref="ConfigReloader"/>). What it
/// cannot change while running it keeps, and says so in its log.
/// </summary>
public interface IConfigReloadable
{
    /// <summary>
    /// Checks <paramref name="config"/> (already loaded and validated) and builds what running it needs, changing
    /// nothing yet. Throws (ArgumentException, InvalidOperationException, IOException) to reject it. Returns the step
    /// that swaps it in, which must not throw: the <see cref="ConfigReloader"/> runs the steps only once every component
    /// has accepted, so a config one component refuses reaches none of them.
    /// </summary>
    Action Prepare(LoadedConfig config);
}
