using System.CommandLine;
using Pipeline.Cli.Commands;

var root = new RootCommand("""
    Pipeline: a host observability event pipeline.
    Edge producers tail logs and sample processes into Kafka; stream processors apply
    threshold rules and emit alerts; sinks write everything to Elasticsearch and serve Prometheus metrics.

    Start here:
      pipeline run                       everything in one process, on an embedded Kafka broker
      pipeline config check my.toml      validate a config and print it with defaults filled in
      pipeline ps --tree                 the process table, from /proc
      pipeline probe run -c my.toml --once   run the health probes here and print a table
      pipeline doctor --config my.toml   check this host against it (files, Kafka, Elasticsearch)
    """)
{
    RunCommand.Create(),
    AgentCommand.Create(),
    ProcessCommand.Create(),
    SinkCommand.Create(),
    BrokerCommand.Create(),
    PsCommand.Create(),
    SnapshotCommand.Create(),
    ProbeCommand.Create(),
    OperatorCommand.Create(),
    ConfigCommand.Create(),
    VersionCommand.Create(),
    DoctorCommand.Create(),
};

// The host handles SIGINT/SIGTERM itself and may need longer than System.CommandLine's 2 s to drain.
return await root.Parse(args).InvokeAsync(new System.CommandLine.InvocationConfiguration { ProcessTerminationTimeout = null });
