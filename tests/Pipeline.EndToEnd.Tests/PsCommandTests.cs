using System.Text.Json;
using Pipeline.Testing;

namespace Pipeline.EndToEnd.Tests;

/// <summary><c>pipeline ps</c> and <c>pipeline snapshot export</c> as a user runs them, against processes the tests start.</summary>
public class PsCommandTests
{
    private const string Esc = "\u001b[";

    [Fact]
    public async Task TheTreeWithAPpidFilterShowsTheChildrenWithTheirWholeSubtrees()
    {
        using var family = Spawned.Shell("sleep 300 & sh -c 'sleep 301 & sleep 302 & wait' & wait");
        await Eventually.True(() => Descendants(family.Pid) == 4, TimeSpan.FromSeconds(10), "children and grandchildren");
        var r = await PipelineProcess.RunAsync("ps", "--tree", "--filter", $"ppid=={family.Pid}");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("PID PPID USER %CPU %MEM", string.Join(' ', lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Equal(5, lines.Length); // header, 2 children, 2 grandchildren; not the parent
        Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith($"{family.Pid} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith(" sleep 300", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("sh -c sleep 301 & sleep 302 & wait", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("├─ sleep 301", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("└─ sleep 302", StringComparison.Ordinal));
        Assert.DoesNotContain(Esc, r.Stdout); // a pipe gets no colour

        var json = await PipelineProcess.RunAsync("ps", "--json", "--sort", "pid", "--filter", $"ppid=={family.Pid} || pid=={family.Pid}");
        var docs = JsonDocument.Parse(json.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(3, docs.Count);
        Assert.Equal(family.Pid, docs[0].GetProperty("process").GetProperty("pid").GetInt32());
        Assert.All(docs, d => Assert.Equal("metric", d.GetProperty("event").GetProperty("kind").GetString()));
        Assert.All(docs.Skip(1), d => Assert.Equal(family.Pid, d.GetProperty("process").GetProperty("parent").GetProperty("pid").GetInt32()));
    }

    [Fact]
    public async Task ABusyProcessIsHighlightedOnATerminalButNotWithNoColor()
    {
        if (Peers.MissingReason("script", "bsdutils") is { } reason) Assert.Skip(reason);
        using var burner = await Spawned.CpuBurnerAsync();
        await Task.Delay(1000);
        // script(1) gives the command a pseudo-terminal, as an interactive shell would.
        var command = $"dotnet {PipelineProcess.Dll} ps --filter 'pid=={burner.Pid} || pid==1'";
        var tty = await Peers.RunAsync("script", ["-qec", command, "/dev/null"]);
        Assert.True(tty.ExitCode == 0, tty.ToString());
        var hot = Assert.Single(tty.Stdout.Split('\n'), l => l.Contains("while :; do :; done", StringComparison.Ordinal));
        Assert.Contains(Esc + "1;", hot); // bold, in the terminal's red
        var cool = Assert.Single(tty.Stdout.Split('\n'), l => l.TrimStart().StartsWith("1 ", StringComparison.Ordinal)); // pid 1, idle
        Assert.DoesNotContain(Esc + "1;", cool);

        var noColor = await Peers.RunAsync("env", ["NO_COLOR=1", "script", "-qec", command, "/dev/null"]);
        var plain = Assert.Single(noColor.Stdout.Split('\n'), l => l.Contains("while :; do :; done", StringComparison.Ordinal));
        Assert.DoesNotContain(Esc, plain);

        var higher = await Peers.RunAsync("script", ["-qec", command + " --highlight 400", "/dev/null"]);
        Assert.DoesNotContain(Esc + "1;", Assert.Single(higher.Stdout.Split('\n'), l => l.Contains("while :; do :; done", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AProcessWithASpaceAndAParenthesisInItsNameIsFoundByName()
    {
        using var dir = new TempDirectory();
        File.Copy("/bin/sleep", dir.File("we ird) name"));
        using var weird = Spawned.Run(dir.File("we ird) name"), "300");
        var r = await Eventually.Get(async () => (ProcessResult?)await PipelineProcess.RunAsync("ps", "--json", "--filter", "name == \"we ird) name\""),
            x => x!.Stdout.Contains("\"pid\":" + weird.Pid, StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the process");
        var doc = JsonDocument.Parse(r.Stdout).RootElement.EnumerateArray().Single();
        Assert.Equal("we ird) name", doc.GetProperty("process").GetProperty("name").GetString());
        Assert.Equal("S", doc.GetProperty("process").GetProperty("state").GetString());
    }

    [Theory]
    [InlineData("rss > 5XB", 7, "unknown unit 'XB'")]
    [InlineData("name = \"x\"", 5, "'=='")]
    [InlineData("name =~ \"(\"", 8, "regular expression")]
    public async Task ABadFilterExitsTwoAndPointsAtTheColumn(string filter, int column, string fragment)
    {
        var r = await PipelineProcess.RunAsync("ps", "--filter", filter);
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n');
        Assert.Contains(fragment, lines[0]);
        Assert.Equal($"  {filter}", lines[1]);
        Assert.Equal(new string(' ', 2 + column) + "^", lines[2]);
    }

    [Fact]
    public async Task SnapshotExportReplacesTheFileAtomicallyWithHostTotalsAndEveryProcess()
    {
        using var dir = new TempDirectory();
        var file = dir.File("snapshot.json");
        File.WriteAllText(file, "old");
        var r = await PipelineProcess.RunAsync("snapshot", "export", "--out", file);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(["snapshot.json"], Directory.GetFiles(dir.Path).Select(Path.GetFileName)); // no temp file left behind
        var root = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
        var host = root.GetProperty("host");
        Assert.True(host.GetProperty("cpu").GetProperty("count").GetInt32() >= 1);
        Assert.True(host.GetProperty("memory").GetProperty("total").GetInt64() > 0);
        var processes = root.GetProperty("processes").EnumerateArray().ToList();
        Assert.Equal(host.GetProperty("processes").GetProperty("count").GetInt32(), processes.Count);
        Assert.Contains(processes, p => p.GetProperty("process").GetProperty("pid").GetInt32() == 1);
        Assert.Contains(processes, p => p.GetProperty("process").TryGetProperty("command_line", out var c) && c.GetString()!.Contains("snapshot export", StringComparison.Ordinal));
        Assert.Contains($"{processes.Count} processes", r.Stderr);
    }

    [Fact]
    public async Task AsAnotherUserOtherProcessesGivePartialDataAndHidepidHidesThem()
    {
        if (Environment.UserName != "root") Assert.Skip("needs root to run the binary as another user and to mount a procfs with hidepid");
        if (Peers.MissingReason("setpriv", "util-linux") is { } reason) Assert.Skip(reason);
        string[] asNobody = ["HOME=/tmp", "PATH=/usr/bin:/bin", "DOTNET_CLI_TELEMETRY_OPTOUT=1", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", PipelineProcess.Dll];

        // Without root, another user's /proc/PID/io and exe are refused: the rest is still shown.
        var partial = await Peers.RunAsync("env", ["-i", .. asNobody, "ps", "--json", "--filter", "pid==1"]);
        Assert.True(partial.ExitCode == 0, partial.ToString());
        var init = JsonDocument.Parse(partial.Stdout).RootElement.EnumerateArray().Single().GetProperty("process");
        Assert.Equal(1, init.GetProperty("pid").GetInt32());
        Assert.True(init.GetProperty("name").GetString()!.Length > 0);
        Assert.False(init.TryGetProperty("io", out _));
        Assert.False(init.TryGetProperty("executable", out _));

        // A procfs mounted with hidepid=invisible shows a user only their own processes.
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("proc"));
        var mount = await Peers.RunAsync("mount", ["-t", "proc", "-o", "hidepid=invisible", "proc", dir.File("proc")]);
        if (mount.ExitCode != 0) Assert.Skip($"cannot mount a procfs with hidepid here: {mount.Stderr.Trim()}");
        try
        {
            File.WriteAllText(dir.File("c.toml"), $"data_dir = \"{dir.File("data")}\"\n[process]\nproc_root = \"{dir.File("proc")}\"\n");
            var hidden = await Peers.RunAsync("env", ["-i", .. asNobody, "ps", "--json", "--config", dir.File("c.toml")]);
            Assert.True(hidden.ExitCode == 0, hidden.ToString());
            var users = JsonDocument.Parse(hidden.Stdout).RootElement.EnumerateArray().Select(d => d.GetProperty("user").GetProperty("name").GetString()).ToList();
            Assert.NotEmpty(users);
            Assert.All(users, u => Assert.Equal("nobody", u));
            Assert.Contains("hidepid=invisible", hidden.Stderr);
        }
        finally
        {
            await Peers.RunAsync("umount", [dir.File("proc")]);
        }
    }

    /// <summary>All descendants, from the kernel's own /proc/PID/task/PID/children lists.</summary>
    private static int Descendants(int root)
    {
        int n = 0;
        var stack = new Stack<int>([root]);
        while (stack.Count > 0)
        {
            int pid = stack.Pop();
            string text;
            try { text = File.ReadAllText($"/proc/{pid}/task/{pid}/children"); }
            catch (IOException) { continue; }
            foreach (var child in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                n++;
                stack.Push(int.Parse(child, System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return n;
    }
}
