using System.Text.Json;
using Pipeline.Testing;

namespace Pipeline.EndToEnd.Tests;

/// <summary>
/// artifacts/pipeline_*_amd64.deb (build/deb.sh) installed with dpkg into a scratch root, so the host's
/// users and files are never touched: the maintainer scripts honour $DPKG_ROOT
/// (<c>--force-script-chrootless</c>). Then the installed binary checks the host and ships a file.
/// </summary>
public class DebianPackageTests
{
    private static string? Package()
    {
        var dir = Path.Combine(RepositoryRoot.Path, "artifacts");
        return Directory.Exists(dir) ? Directory.GetFiles(dir, "pipeline_*_amd64.deb").OrderDescending().FirstOrDefault() : null;
    }

    private static string? SkipReason() =>
        Peers.MissingReason("dpkg", "dpkg")
        ?? (Package() is null ? "artifacts/pipeline_*_amd64.deb is missing: run build/publish.sh and build/deb.sh (build/test.sh runs both)" : null);

    /// <summary>An empty dpkg database and just enough of /etc for useradd --prefix.</summary>
    private static void LayOutRoot(string root)
    {
        foreach (var d in new[] { "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc" })
            Directory.CreateDirectory(Path.Combine(root, d));
        File.WriteAllText(Path.Combine(root, "var/lib/dpkg/status"), "");
        File.WriteAllText(Path.Combine(root, "var/lib/dpkg/available"), "");
        File.WriteAllText(Path.Combine(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        File.WriteAllText(Path.Combine(root, "etc/group"), "root:x:0:\nadm:x:4:\n");
        File.WriteAllText(Path.Combine(root, "etc/shadow"), "root:*:19000:0:99999:7:::\n");
        File.WriteAllText(Path.Combine(root, "etc/gshadow"), "root:*::\nadm:*::\n");
    }

    private static Task<ProcessResult> Dpkg(string root, IReadOnlyDictionary<string, string?>? environment, params string[] args)
        // The package's Depends (libc6, ...) are met by the host, not by the empty root's database.
        => Peers.RunAsync("dpkg", [$"--root={root}", "--force-script-chrootless", "--force-depends", "--log=/dev/null", .. args],
            timeout: TimeSpan.FromSeconds(120), environment: environment);

    [Fact]
    public async Task InstalledIntoAScratchRootItCreatesItsUserAndDataDirThenChecksTheHostAndShipsAFile()
    {
        if (SkipReason() is { } reason) { Assert.Skip(reason); return; }
        using var scratch = new TempDirectory("deb-root");
        var root = scratch.File("root");
        LayOutRoot(root);

        var install = await Dpkg(root, null, "-i", Package()!);
        Assert.True(install.ExitCode == 0, install.ToString());

        // What the package laid down, and what postinst created.
        var pipelineUser = File.ReadAllLines(Path.Combine(root, "etc/passwd")).Single(l => l.StartsWith("pipeline:", StringComparison.Ordinal)).Split(':');
        Assert.Equal("/var/lib/pipeline", pipelineUser[5]);
        Assert.Equal("/usr/sbin/nologin", pipelineUser[6]);
        Assert.True(int.Parse(pipelineUser[2], System.Globalization.CultureInfo.InvariantCulture) < 1000, "a system user");
        Assert.Contains(File.ReadAllLines(Path.Combine(root, "etc/group")), l => l.StartsWith("adm:", StringComparison.Ordinal) && l.EndsWith(":pipeline", StringComparison.Ordinal));
        var dataDir = Path.Combine(root, "var/lib/pipeline");
        var stat = await Peers.RunAsync("stat", ["-c", "%a %u", dataDir]);
        Assert.Equal($"750 {pipelineUser[2]}", stat.Stdout.Trim());
        Assert.True(File.Exists(Path.Combine(root, "lib/systemd/system/pipeline-agent.service")));
        var status = await Peers.RunAsync("dpkg", [$"--root={root}", "-s", "pipeline"]);
        Assert.Contains("Status: install ok installed", status.Stdout);
        Assert.Contains(" /etc/pipeline/agent.toml ", status.Stdout); // a conffile: local edits survive upgrades

        // The installed binary, with the installed agent.toml pointed at this scratch root and a broker.
        var binary = Path.Combine(root, "usr/bin/pipeline");
        Directory.CreateDirectory(scratch.File("logs"));
        File.WriteAllLines(scratch.File("logs/app.log"), ["installed one", "installed two", "installed three"]);
        var config = scratch.File("agent.toml");
        File.WriteAllText(config, File.ReadAllText(Path.Combine(root, "etc/pipeline/agent.toml"))
            .Replace("data_dir = \"/var/lib/pipeline\"", $"data_dir = \"{dataDir}\"", StringComparison.Ordinal)
            .Replace("# listen = \"127.0.0.1:9464\"", "listen = \"\"", StringComparison.Ordinal)
            + $"\n[[logs.inputs]]\npaths = [\"{scratch.File("logs")}/*.log\"]\nstart_at = \"beginning\"\nscan_interval = \"100ms\"\n");
        await using var broker = PipelineProcess.Start("broker", "--config", config);
        await broker.WaitForLineAsync(l => l.StartsWith("embedded Kafka broker at", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var environment = new Dictionary<string, string?>
        {
            ["HOME"] = scratch.Path,
            ["DOTNET_BUNDLE_EXTRACT_BASE_DIR"] = Path.Combine(root, "var/cache/pipeline"), // as the unit sets it
            ["DOTNET_ROOT"] = scratch.File("no-dotnet-here"),
        };

        var doctor = await Peers.RunAsync(binary, ["doctor", "--config", config], environment: environment, timeout: TimeSpan.FromSeconds(90));
        Assert.True(doctor.ExitCode == 0, doctor.ToString());
        Assert.Contains("✓ kafka topics:", doctor.Stdout);

        var once = await Peers.RunAsync(binary, ["agent", "--config", config, "--once"], environment: environment, timeout: TimeSpan.FromSeconds(120));
        Assert.True(once.ExitCode == 0, once.ToString());
        Assert.True(File.Exists(Path.Combine(dataDir, "registry")), "offsets saved under the package's data dir");
        if (Peers.MissingReason("kcat", "kcat") is null)
        {
            var bootstrap = File.ReadAllText(Path.Combine(dataDir, "bootstrap")).Trim();
            var read = await Peers.RunAsync("kcat", ["-b", bootstrap, "-C", "-t", "ops.logs.v1", "-o", "beginning", "-e", "-q", "-f", "%s\n"]);
            var messages = read.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("message").GetString());
            Assert.Equal(["installed one", "installed two", "installed three"], messages);
        }
        Assert.Equal(0, await broker.StopAsync());

        // Purge keeps the checkpoints unless asked, and always drops the extracted libraries.
        var purge = await Dpkg(root, null, "--purge", "pipeline");
        Assert.True(purge.ExitCode == 0, purge.ToString());
        Assert.True(File.Exists(Path.Combine(dataDir, "registry")), "purge without PIPELINE_PURGE_DATA keeps the data");
        Assert.False(Directory.Exists(Path.Combine(root, "var/cache/pipeline")));
        Assert.False(File.Exists(binary));
        Assert.False(File.Exists(Path.Combine(root, "etc/pipeline/agent.toml")));

        Assert.Equal(0, (await Dpkg(root, null, "-i", Package()!)).ExitCode);
        var purgeData = await Dpkg(root, new Dictionary<string, string?> { ["PIPELINE_PURGE_DATA"] = "yes" }, "--purge", "pipeline");
        Assert.True(purgeData.ExitCode == 0, purgeData.ToString());
        Assert.False(Directory.Exists(dataDir), "PIPELINE_PURGE_DATA=yes removes the data");
    }

    [Fact]
    public async Task LintianFindsNoErrors()
    {
        if ((SkipReason() ?? Peers.MissingReason("lintian", "lintian")) is { } reason) { Assert.Skip(reason); return; }
        var r = await Peers.RunAsync("lintian", ["--fail-on", "error", Package()!], timeout: TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("\nE: ", "\n" + r.Stdout);
    }
}
