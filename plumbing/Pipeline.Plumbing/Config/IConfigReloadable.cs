namespace Pipeline.Plumbing.Config;

/// <summary>
/// A component that takes a changed config without a restart (see <see cref="ConfigReloader"/>). What it
/// cannot change while running it keeps, and says so in its log.
/// </summary>
public interface IConfigReloadable
{
    /// <summary>
    /// Applies <paramref name="config"/>, already loaded and validated. Throws (ArgumentException,
    /// InvalidOperationException, IOException) to reject it; the component then keeps its current config.
    /// </summary>
    void Apply(LoadedConfig config);
}
