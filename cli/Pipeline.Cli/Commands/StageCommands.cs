using System.CommandLine;
using Pipeline.Cli.Composition;

namespace Pipeline.Cli.Commands;

// One command per way of splitting the stages across processes; each only picks stages for StageHost.

internal static class RunCommand
{
    public static Command Create() => StageCommandBuilder.Create("run", Stages.All, """
        Run every stage in one process: log tailer and process sampler -> Kafka -> stream processors -> sinks.
        With kafka.bootstrap = "embedded" (the default) an in-memory Kafka broker starts too; its address is
        printed and written to <data_dir>/bootstrap so kcat or a second `pipeline agent` can connect.
        Alerts are printed one per line as they fire and resolve. Ctrl-C or SIGTERM stops cleanly:
        producers flush, processors and sinks drain and commit, then the process exits 0.

        Examples:
          pipeline run
          pipeline run --config deploy/pipeline/run.toml
          kcat -b $(cat pipeline-data/bootstrap) -t ops.alerts.v1 -C -o beginning
        """);
}

internal static class AgentCommand
{
    public static Command Create()
    {
        var once = new Option<bool>("--once")
        {
            Description = "Ship what the files hold now (from the saved offsets, or per start_at), wait for Kafka's acknowledgements, save the offsets and exit.",
        };
        return StageCommandBuilder.Create("agent", Stages.Producers, """
            Run the edge producers only (log tailer; process sampler unless process.enabled = false; the
            [[probes]] when any are configured), publishing to kafka.bootstrap. While Kafka is unreachable,
            process samples and events wait in a disk spool under <data_dir>/spool/process and are sent in
            order once it is back.
            With kafka.bootstrap = "embedded" it connects to the broker a `pipeline broker` or `pipeline run`
            with the same data_dir started (address read from <data_dir>/bootstrap).
            Under systemd (deploy/systemd/pipeline-agent.service) it reports ready once Kafka answers and the
            inputs are open, and feeds the watchdog only while the tailer's loop turns.

            Examples:
              pipeline agent --config /etc/pipeline/agent.toml
              pipeline agent --config /etc/pipeline/agent.toml --once     # catch up, then exit (cron, tests)
            """, once);
    }
}

internal static class ProcessCommand
{
    public static Command Create() => StageCommandBuilder.Create("process", Stages.Processors, """
        Run the stream processors only: rules over ops.logs.v1 (and the other sources) -> ops.alerts.v1,
        bad records -> ops.deadletter.v1.

        Examples:
          pipeline process --config /etc/pipeline/processors.toml
        """);
}

internal static class SinkCommand
{
    public static Command Create() => StageCommandBuilder.Create("sink", Stages.Sinks, """
        Run the sinks only: every topic to Elasticsearch (elasticsearch.url) or, without a URL, to NDJSON
        files under <data_dir>/ndjson that Elasticsearch's _bulk API can load later.

        Examples:
          pipeline sink --config /etc/pipeline/sinks.toml
        """);
}

internal static class BrokerCommand
{
    public static Command Create() => StageCommandBuilder.Create("broker", Stages.Broker, """
        Run the embedded Kafka broker alone (librdkafka's mock cluster, in memory), with every pipeline
        topic created, for setups with several pipeline processes on one machine. Set kafka.embedded_port
        for a fixed address. Data is lost when it stops: it is for one machine and for trying things out.

        Examples:
          pipeline broker --config dev.toml &
          pipeline agent --config dev.toml      # same data_dir: finds the broker by itself
        """);
}

internal static class StageCommandBuilder
{
    public static Command Create(string name, Stages stages, string description, Option<bool>? once = null)
    {
        var config = CommonOptions.Config();
        var allowInsecure = new Option<bool>("--allow-insecure-config")
        {
            Description = "Start even if the config file is writable by other users (it can make the agent run code).",
        };
        var command = new Command(name, description) { config, allowInsecure };
        if (once is not null) command.Options.Add(once);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var file = parse.GetValue(config);
            if (file is not null && Pipeline.Plumbing.Config.ConfigFileSafety.WritableByOthers(file.FullName) is { } unsafeConfig && !parse.GetValue(allowInsecure))
            {
                Console.Error.WriteLine($"error: {unsafeConfig}");
                return CommonOptions.ExitConfigError;
            }
            var loaded = CommonOptions.Load(file);
            if (loaded is null) return CommonOptions.ExitConfigError;
            return await StageHost.RunAsync(loaded, stages, $"pipeline-{name}", cancellationToken, once is not null && parse.GetValue(once)).ConfigureAwait(false);
        });
        return command;
    }
}
