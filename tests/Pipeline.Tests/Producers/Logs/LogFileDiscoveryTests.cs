using Pipeline.Plumbing.Config;
using Pipeline.Producers.Logs;
using Pipeline.Testing;

namespace Pipeline.Tests.Producers.Logs;

public class LogFileDiscoveryTests : IDisposable
{
    private readonly TempDirectory _dir = new("pipeline-discovery");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void GlobsFindFilesAtAnyDepthAndExcludesRemoveThem()
    {
        foreach (var file in new[] { "a.log", "old.log.gz", "sub/c.log", "sub/skip.log", "sub/deeper/d.log", "other/e.log", "notes.txt" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_dir.File(file))!);
            File.WriteAllText(_dir.File(file), "x\n");
        }
        var discovery = new LogFileDiscovery(new LogInputConfig
        {
            Paths = [Path.Combine(_dir.Path, "**", "*.log")],
            Exclude = ["skip.log", Path.Combine(_dir.Path, "other", "*")],
        });

        var found = discovery.Files().Select(f => Path.GetRelativePath(_dir.Path, f)).Order(StringComparer.Ordinal);
        Assert.Equal(["a.log", "sub/c.log", "sub/deeper/d.log"], found);
    }

    [Fact]
    public void APlainPathFindsThatFileOnlyAndAMissingDirectoryFindsNothing()
    {
        File.WriteAllText(_dir.File("syslog"), "x\n");
        File.WriteAllText(_dir.File("syslog.1"), "x\n");
        var discovery = new LogFileDiscovery(new LogInputConfig { Paths = [_dir.File("syslog"), Path.Combine(_dir.Path, "missing", "*.log")] });
        Assert.Equal([_dir.File("syslog")], discovery.Files());
    }
}
