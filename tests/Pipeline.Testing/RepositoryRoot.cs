namespace Pipeline.Testing;

/// <summary>The checkout the tests run from: the nearest directory above the test binaries that holds Pipeline.sln.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    /// <summary><paramref name="fullPath"/> as the repository spells it, e.g. <c>deploy/pipeline/agent.toml</c>, for messages.</summary>
    public static string Display(string fullPath) => System.IO.Path.GetRelativePath(Path, fullPath).Replace('\\', '/');

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no Pipeline.sln in {AppContext.BaseDirectory} or any directory above it");
    }
}
