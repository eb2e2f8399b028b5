using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Expressions;
using Pipeline.Producers.Process;

namespace Pipeline.Tests.Producers.Process;

public class ProcessFieldSourceTests
{
    private const string Container = "3f2a9c6e1b7d4e8fa0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3";

    private static ProcessRecord Java()
    {
        var p = new ProcessRecord
        {
            Pid = 4242, Ppid = 1, Name = "java", Executable = "/usr/bin/java",
            CommandLine = "java -Xmx2g -jar /srv/billing/app.jar", Args = ["java", "-Xmx2g", "-jar", "/srv/billing/app.jar"],
            Uid = 1000, User = "billing", State = 'S', Threads = 40, Nice = 5,
            CpuPct = 73.5, CpuTotalPct = 36.75, RssBytes = 700L * 1024 * 1024, VirtualBytes = 4L << 30, MemoryPct = 4.4,
            ReadBytes = 10, WriteBytes = 20, FdCount = 120,
            Cgroup = CgroupLabels.Parse($"0::/system.slice/docker-{Container}.scope\n"),
        };
        var rules = new LabelRules(
        [
            new ProcessLabelRule { Cmdline = "-jar /srv/billing", Set = { ["app"] = "billing", ["team"] = "payments" } },
            new ProcessLabelRule { User = "billing", Name = "java", Set = { ["tier"] = "backend" } },
            new ProcessLabelRule { Cgroup = "^/system.slice/nginx", Set = { ["app"] = "nginx" } },
            new ProcessLabelRule { User = "0", Set = { ["root"] = "yes" } },
        ]);
        p.Labels = rules.LabelsFor(p);
        return p;
    }

    [Theory]
    [InlineData("pid == 4242", true)]
    [InlineData("ppid == 1 && process.parent.pid == 1", true)]
    [InlineData("name == \"java\" && process.name == \"java\"", true)]
    [InlineData("user == \"billing\" && user.name == \"billing\" && uid == 1000", true)]
    [InlineData("cpu > 50 && process.cpu.pct > 50 && cpu_total < 50", true)]
    [InlineData("mem > 4 && mem < 5", true)]
    [InlineData("rss > 500MiB && process.memory.rss < 1GiB", true)]
    [InlineData("rss > 700MiB", false)]
    [InlineData("vsz >= 4GiB", true)]
    [InlineData("cmdline =~ \"-jar .*billing\"", true)]
    [InlineData("cmdline !~ \"-jar\"", false)]
    [InlineData("exe == \"/usr/bin/java\"", true)]
    [InlineData("state == \"S\" && state in [\"S\", \"R\"]", true)]
    [InlineData("threads >= 40 && nice == 5 && fd == 120", true)]
    [InlineData("label.app == \"billing\" && labels.team == \"payments\" && label.tier == \"backend\"", true)]
    [InlineData("label.root == \"yes\"", false)]
    [InlineData("label.missing == \"x\"", false)]
    [InlineData("container.id == \"" + Container + "\" && container.runtime == \"docker\"", true)]
    [InlineData("container.id startswith \"3f2a9c6e1b7d\"", true)]
    [InlineData("unit =~ \"^docker-\"", true)]
    [InlineData("cgroup startswith \"/system.slice/\"", true)]
    [InlineData("pod == null", true)]
    [InlineData("kthread", false)]
    [InlineData("!(name in [\"sshd\", \"nginx\"]) && (cpu > 90 || rss > 100MiB)", true)]
    public void ShortNamesAndEcsPathsBothWork(string expression, bool expected)
        => Assert.Equal(expected, Expression.Parse(expression).Matches(new ProcessFieldSource(Java())));

    [Fact]
    public void LabelRulesMatchOnNameCommandLineUserAndCgroupAndAddTheCgroupsOwnLabels()
    {
        var labels = Java().Labels;
        Assert.Equal("billing", labels["app"]); // the nginx rule's cgroup does not match, so it does not override
        Assert.Equal("payments", labels["team"]);
        Assert.Equal("backend", labels["tier"]);
        Assert.False(labels.ContainsKey("root"));
        Assert.Equal($"/system.slice/docker-{Container}.scope", labels[LabelRules.CgroupPathLabel]);
        Assert.Equal($"docker-{Container}.scope", labels[LabelRules.SystemdUnitLabel]);
    }
}
