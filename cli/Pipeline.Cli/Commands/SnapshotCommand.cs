using System.CommandLine;
using Pipeline.Producers.Process;

namespace Pipeline.Cli.Commands;

internal static class SnapshotCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var output = new Option<FileInfo?>("--out", "-o") { Description = "Write to FILE, atomically (a temp file next to it, then a rename). Default: standard output.", HelpName = "FILE" };
        var export = new Command("export", """
            Write a full resource snapshot as JSON: host totals (CPUs, load, memory, uptime, process
            counts by state) and every process with its labels, as the same ECS documents the agent
            publishes to ops.process.v1. CPU% is each process's average since it started.
            A reader of FILE never sees a half-written snapshot.

            Examples:
              pipeline snapshot export --out /var/tmp/snapshot.json
              pipeline snapshot export | jq '.host.memory, (.processes | length)'
              pipeline snapshot export | jq '.processes[] | select(.container) | .process.name'
            """) { config, output };
        export.SetAction(parse =>
        {
            var loaded = CommonOptions.Load(parse.GetValue(config));
            if (loaded is null) return CommonOptions.ExitConfigError;
            var options = loaded.Config.Process;
            var collector = new ProcessCollector(options.ProcRoot, new LabelRules(options.Labels));
            var snapshot = ResourceSnapshot.From(collector.Sample(), new ProcessEventEncoder(loaded.Config.EffectiveHostName));
            if (parse.GetValue(output) is not { } file)
            {
                using var stdout = Console.OpenStandardOutput();
                snapshot.WriteTo(stdout, indented: true);
                stdout.Write("\n"u8);
                return 0;
            }
            try
            {
                snapshot.WriteAtomically(file.FullName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: cannot write {file.FullName}: {e.Message}");
                return CommonOptions.ExitFailure;
            }
            Console.Error.WriteLine($"{file.FullName}: {snapshot.Processes.Count} processes");
            return 0;
        });
        return new Command("snapshot", """
            Resource snapshots of this machine.

            Examples:
              pipeline snapshot export --out snapshot.json
            """) { export };
    }
}
