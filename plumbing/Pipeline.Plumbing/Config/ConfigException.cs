namespace Pipeline.Plumbing.Config;

/// <summary>Where in a config file something is. Line and column are 1-based, as editors show them.</summary>
public readonly record struct ConfigLocation(string File, int Line, int Column)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}" : File;
}

/// <summary>One problem with a config file, and where it is.</summary>
public sealed record ConfigError(ConfigLocation Location, string Message)
{
    public override string ToString() => $"{Location}: {Message}";
}

/// <summary>The config file cannot be used. <see cref="Exception.Message"/> is the first error, on one line.</summary>
public sealed class ConfigException(IReadOnlyList<ConfigError> errors)
    : Exception(errors.Count > 0 ? errors[0].ToString() : "invalid config")
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;

    public ConfigException(ConfigLocation location, string message) : this([new ConfigError(location, message)]) { }
}
