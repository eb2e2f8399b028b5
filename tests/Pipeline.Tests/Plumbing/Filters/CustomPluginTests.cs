using System.Text;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Filters;
using Pipeline.Testing;

namespace Pipeline.Tests.Plumbing.Filters;

/// <summary>
/// The worked example under examples/StatusClassFilter, built with <c>dotnet build</c> into a plugin_dir,
/// loaded through the same FilterFactory both stages use, and run.
/// </summary>
public class CustomPluginTests : IClassFixture<CustomPluginTests.BuiltPlugin>
{
    private readonly BuiltPlugin _plugin;

    public CustomPluginTests(BuiltPlugin plugin) => _plugin = plugin;

    [Fact]
    public void TheExampleBuildsIntoAPluginDirWithoutACopyOfTheContract()
    {
        Assert.True(File.Exists(Path.Combine(_plugin.Dir, "StatusClassFilter.dll")), _plugin.BuildOutput);
        // Private=false / ExcludeAssets: the host's contract and dependencies are used, not copies.
        Assert.False(File.Exists(Path.Combine(_plugin.Dir, "Pipeline.Plumbing.dll")));
        Assert.False(Directory.Exists(Path.Combine(_plugin.Dir, "runtimes")));
    }

    [Fact]
    public void ThePluginIsFoundAndRunsInAChainWithBuiltIns()
    {
        var factory = new FilterFactory(_plugin.Dir);
        Assert.Contains("status_class", factory.CustomTypes);
        var chain = factory.CreateChain(
        [
            new FilterConfig { Type = "regex", Pattern = @" (?<status>\d{3})$", Target = "http" },
            new FilterConfig { Type = "status_class" },
        ], "plugin-test");

        var e = FilterEvent.Parse("""{"message":"GET /orders 503"}"""u8);
        Assert.Equal(FilterOutcome.Keep, chain.Run(e, out _));
        Assert.Equal("5xx", e.GetString("http.status_class"));

        // A plugin that throws is handled by the chain like any filter: passed on, and said so.
        var bad = FilterEvent.Parse("""{"message":"x","http":{"status":"abc"}}"""u8);
        Assert.Equal(FilterOutcome.Keep, chain.Run(bad, out var error, out bool failed));
        Assert.True(failed);
        Assert.Contains("FormatException", error);
        var dead = factory.CreateChain([new FilterConfig { Type = "status_class", OnError = "deadletter" }], "plugin-test");
        Assert.Equal(FilterOutcome.DeadLetter, dead.Run(FilterEvent.Parse("""{"http":{"status":"abc"}}"""u8), out _));
    }

    [Fact]
    public void AConfigUsingThePluginIsValidAndATypoNamesThePluginTypes()
    {
        string Config(string type) => $"""
            plugin_dir = "{_plugin.Dir}"
            [[logs.inputs]]
            paths = ["/var/log/app/*.log"]
            [[logs.inputs.filters]]
            type = "{type}"
            field = "http.code"
            """;
        var loaded = ConfigLoader.Parse(Config("status_class"), "plugin.toml");
        Assert.Equal("status_class", loaded.Config.Logs.Inputs[0].Filters[0].Type);

        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Config("status_clas"), "plugin.toml"));
        Assert.Contains("plugins: status_class", e.Message);
        Assert.Equal(4, e.Errors[0].Location.Line);
    }

    [Fact]
    public void LoadingThePluginDirAgainReusesTheLoadedAssembly()
    {
        var first = new FilterFactory(_plugin.Dir).Create(new FilterConfig { Type = "status_class" });
        var again = new FilterFactory(_plugin.Dir).Create(new FilterConfig { Type = "status_class" });
        Assert.Same(first.GetType(), again.GetType());
    }

    /// <summary>Builds the example once for the class, into its own plugin_dir.</summary>
    public sealed class BuiltPlugin : IAsyncLifetime
    {
        private readonly TempDirectory _dir = new("pipeline-plugin");

        public string Dir => _dir.Path;
        public string BuildOutput { get; private set; } = "";

        public async ValueTask InitializeAsync()
        {
            var project = Path.Combine(RepositoryRoot.Path, "examples", "StatusClassFilter", "StatusClassFilter.csproj");
            var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            // The contract project is already built (the tests reference it): build only the plugin.
            var result = await Peers.RunAsync("dotnet",
                ["build", project, "-c", configuration, "-o", _dir.Path, "-p:BuildProjectReferences=false", "-nologo", "-v:q"],
                timeout: TimeSpan.FromMinutes(3));
            BuildOutput = result.ToString();
            if (result.ExitCode != 0) throw new InvalidOperationException($"the example plugin did not build:\n{result}");
        }

        public ValueTask DisposeAsync()
        {
            _dir.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
