using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Processors;
using Pipeline.Producers.Logs;
using Pipeline.Producers.Process;
using Pipeline.Kubernetes;
using Pipeline.Producers.Probes;
using Pipeline.Sinks;
using Pipeline.Sinks.Console;
using Pipeline.Sinks.Metrics;
using Spectre.Console;

namespace Pipeline.Cli.Composition;

[Flags]
internal enum Stages
{
    Broker = 1,
    Producers = 2,
    Processors = 4,
    Sinks = 8,
    All = Broker | Producers | Processors | Sinks,
}

/// <summary>
/// Composes the chosen stages into one generic host. Registration order is start order, and the host
/// stops in reverse: producers flush first, then processors and sinks drain, and the embedded broker goes last.
/// </summary>
internal static class StageHost
{
    /// <param name="once">Ship what the inputs hold now, then stop (producers only): <c>pipeline agent --once</c>.</param>
    public static async Task<int> RunAsync(LoadedConfig loaded, Stages stages, string serviceName, CancellationToken cancellationToken, bool once = false)
    {
        var config = loaded.Config;
        EcsConsoleFormatter.ServiceName = serviceName;
        EcsConsoleFormatter.HostName = config.EffectiveHostName;
        using var loggerFactory = LoggerFactory.Create(b => ConsoleLogging.Configure(b));
        var logger = loggerFactory.CreateLogger("pipeline");
        if (ConfigFileSafety.SecretsReadableByOthers(loaded.Source) is { } readable) logger.LogWarning("{Warning}", readable);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        // SIGHUP's default action ends the process without a flush, and systemd counts that as a clean exit
        // and does not restart: `systemctl reload` would silently stop the agent. With a config file the
        // ConfigReloader handles SIGHUP; without one there is nothing to reload, so say so and keep running.
        using var sighup = File.Exists(loaded.Source) ? null : PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
        {
            c.Cancel = true;
            logger.LogWarning("SIGHUP: running on the built-in defaults, there is no config file to reload");
        });

        Directory.CreateDirectory(config.DataDir);
        EmbeddedBroker? broker = null;
        KafkaSettings kafka;
        try
        {
            if (stages.HasFlag(Stages.Broker) && config.Kafka.IsEmbedded)
            {
                broker = StartBroker(config, stages);
                kafka = new KafkaSettings(config.Kafka, broker.Bootstrap, embedded: true);
            }
            else if (stages == Stages.Broker)
            {
                Console.Error.WriteLine($"error: `pipeline broker` runs the embedded broker, but kafka.bootstrap is \"{config.Kafka.Bootstrap}\" ({loaded.LocationOf("kafka.bootstrap")}); use kafka.bootstrap = \"embedded\"");
                return Commands.CommonOptions.ExitConfigError;
            }
            else
            {
                kafka = KafkaSettings.ForClient(config);
            }
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            broker?.Dispose();
            return Commands.CommonOptions.ExitFailure;
        }

        try
        {
            if (stages != Stages.Broker)
            {
                logger.LogInformation("connecting to Kafka at {Bootstrap}", kafka.Bootstrap);
                // Under systemd, `systemctl status` shows why the unit is not ready yet.
                if (SystemdHelpers.IsSystemdService()) new SystemdNotifier().Notify(new ServiceState($"STATUS=waiting for Kafka at {kafka.Bootstrap}"));
                await KafkaReadiness.WaitUntilReachableAsync(kafka, logger, stop.Token).ConfigureAwait(false);
                await KafkaReadiness.EnsureTopicsAsync(kafka, logger).ConfigureAwait(false);
            }
            var probes = stages.HasFlag(Stages.Producers) ? await ProbesForThisNodeAsync(config, loggerFactory, stop.Token).ConfigureAwait(false) : null;
            using var host = Build(loaded, kafka, broker, stages, serviceName, probes);
            var services = host.Services.GetServices<IHostedService>().ToList();
            await host.StartAsync(stop.Token).ConfigureAwait(false);
            if (once) _ = StopWhenCaughtUpAsync(host.Services.GetRequiredService<IHostApplicationLifetime>(), logger);
            await host.WaitForShutdownAsync(stop.Token).ConfigureAwait(false);
            return Failed(services, logger) ? Commands.CommonOptions.ExitFailure : 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception e) when (IsStartFailure(e))
        {
            logger.LogCritical(e, "pipeline failed to start: {Error}", e.GetBaseException().Message);
            return Commands.CommonOptions.ExitFailure;
        }
        finally
        {
            broker?.Dispose();
        }
    }

    /// <summary>
    /// The failures that end start-up with a logged reason rather than a crash. A method of its own, compiled
    /// only when an exception reaches the filter: naming these types in the filter made the JIT load their
    /// assemblies (KubernetesClient, 3 MiB mapped with its dependencies; System.Net.Http, 1.2 MiB resident)
    /// into every process at start.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool IsStartFailure(Exception e) =>
        e is InvalidOperationException or IOException or InvalidDataException or UnauthorizedAccessException or NotSupportedException
            or ArgumentException or System.Reflection.TargetInvocationException or HttpRequestException
            or k8s.Autorest.HttpOperationException or k8s.Exceptions.KubeConfigException;

    private static EmbeddedBroker StartBroker(PipelineConfig config, Stages stages)
    {
        var broker = new EmbeddedBroker(config.Kafka.EmbeddedBrokers, config.Kafka.EmbeddedPort);
        var rules = StreamProcessorService.CompileRules(config);
        broker.CreateTopics(ProcessorTopology.InternalTopics(config.Processors.ApplicationId, rules)
            .Concat(StreamProcessorService.FilteredSources(config).Select(s => (ProcessorTopology.FilteredTopic(s), s.Partitions))));
        var file = KafkaSettings.BootstrapFile(config);
        broker.WriteBootstrapFile(file);
        Console.Out.WriteLine($"embedded Kafka broker at {broker.Bootstrap} (address written to {Path.GetFullPath(file)})");
        Console.Out.WriteLine($"  read alerts with: kcat -b {broker.Bootstrap} -t ops.alerts.v1 -C -o beginning");
        if (stages != Stages.Broker) Console.Out.WriteLine("  in-memory only: for one machine and for trying things out; data is gone when this process stops");
        return broker;
    }

    /// <summary>
    /// The probes to run and, in Kubernetes (<c>probe_runner.node_name</c> set), the reporter of this node's
    /// conditions. The node is read before anything starts: its labels pick the probes meant for it, and its
    /// conditions seed the probes' state so a restart is not a transition.
    /// </summary>
    private static Task<AgentProbes?> ProbesForThisNodeAsync(PipelineConfig config, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (config.Probes.Count == 0) return Task.FromResult<AgentProbes?>(null);
        if (config.ProbeRunner.NodeName.Length == 0) return Task.FromResult<AgentProbes?>(new AgentProbes(ProbeFactory.CreateAll(config.Probes), null));
        return ProbesFromNodeAsync(config, loggers, cancellationToken);
    }

    /// <summary>
    /// A method of its own: its state machine holds the Kubernetes client, and loading that type loads
    /// KubernetesClient (3 MiB mapped, and its dependencies). Only a probe runner with a node name pays for it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<AgentProbes?> ProbesFromNodeAsync(PipelineConfig config, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var client = KubernetesConnection.Create();
        var node = await NodeConditionReporter.ReadNodeAsync(client, config.ProbeRunner.NodeName, cancellationToken).ConfigureAwait(false);
        var probes = ProbeFactory.CreateAll(NodeConditionReporter.ProbesFor(node, config.Probes));
        return new AgentProbes(probes, new NodeConditionReporter(client, node, probes, loggers.CreateLogger<NodeConditionReporter>()));
    }

    private sealed record AgentProbes(List<ScheduledProbe> Probes, NodeConditionReporter? Conditions);

    private static IHost Build(LoadedConfig loaded, KafkaSettings kafka, EmbeddedBroker? broker, Stages stages, string serviceName, AgentProbes? probes)
    {
        var config = loaded.Config;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        ConsoleLogging.Configure(builder.Logging);
        builder.Services.AddSystemd();
        builder.Services.Configure<HostOptions>(o =>
        {
            // Long enough for producers to flush and sinks to drain; systemd's TimeoutStopSec must be longer.
            o.ShutdownTimeout = TimeSpan.FromSeconds(60);
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost;
        });
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(config.Metrics);
        builder.Services.AddSingleton(kafka);
        // First, so the tracer listens before any stage starts a span; off (not registered) without telemetry.otlp_endpoint.
        builder.Services.AddPipelineTracing(config.Telemetry, serviceName, config.EffectiveHostName);
        if (broker is not null) builder.Services.AddHostedService(_ => new EmbeddedBrokerLifetime(broker));
        builder.Services.AddHostedService<MetricsEndpoint>();
        if (stages != Stages.Broker)
            builder.Services.AddHostedService(sp => new RuntimeHealthMonitor(config, kafka, serviceName, sp.GetRequiredService<ILogger<RuntimeHealthMonitor>>()));
        if (config.Debug.Enabled)
            builder.Services.AddHostedService(sp => new DiagnosticsEndpoint(config.Debug, config.DataDir, sp.GetRequiredService<ILogger<DiagnosticsEndpoint>>()));
        // Each stage registers in a method of its own, so a process loads only the stages it runs: the JIT
        // loads every assembly a method names when it compiles it, and one method naming every stage made
        // `pipeline agent` map the sinks, the processors, Spectre.Console and System.Net.Http (~3 MiB resident).
        if (stages.HasFlag(Stages.Sinks)) AddSinks(builder.Services, config);
        if (stages.HasFlag(Stages.Processors)) AddProcessors(builder.Services, config);
        if (stages.HasFlag(Stages.Producers)) AddProducers(builder.Services, config);
        // The config file is watched (and SIGHUP handled) for every stage that can take a new config.
        builder.Services.AddHostedService(sp => new ConfigReloader(
            File.Exists(loaded.Source) ? loaded.Source : null, sp.GetServices<IConfigReloadable>(), sp.GetRequiredService<ILogger<ConfigReloader>>()));
        if (probes is not null) AddProbes(builder.Services, config, probes);

        // Last, so the host (and with it systemd's READY=1) counts as started only once each stage's loop has turned.
        var started = new List<string>();
        if (stages.HasFlag(Stages.Producers)) started.Add(StageProgress.LogTailer);
        if (stages.HasFlag(Stages.Sinks)) started.Add(StageProgress.EventSink);
        builder.Services.AddHostedService(_ => new StagesStartedGate(started));
        if (SystemdWatchdog.IntervalFromEnvironment() is { } watchdog)
        {
            // The processors are watched but not waited for at start: with no rules they never run a stream thread.
            var watched = new List<string>(started);
            if (stages.HasFlag(Stages.Processors)) watched.Add(StageProgress.Processors);
            builder.Services.AddHostedService(sp => new SystemdWatchdog(
                sp.GetService<ISystemdNotifier>() ?? new SystemdNotifier(), watchdog, watched, sp.GetRequiredService<ILogger<SystemdWatchdog>>()));
        }
        return builder.Build();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddSinks(IServiceCollection services, PipelineConfig config)
    {
        services.AddSingleton(sp => SinkBackends.Create(config, sp.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService<EventSink>();
        if (config.Alerts.Alertmanager.Count + config.Alerts.Webhooks.Count > 0)
        {
            services.AddSingleton(_ => Pipeline.Sinks.Alerts.AlertForwarder.TargetsFrom(config.Alerts));
            services.AddHostedService<Pipeline.Sinks.Alerts.AlertForwarder>();
        }
        // The exporter's series live on this process's /metrics; without an endpoint it would be work for nobody.
        if (config.Exporter.Enabled && config.Metrics.Listen.Length > 0) services.AddHostedService<EventMetricsExporter>();
        if (config.Sinks.ConsoleAlerts)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            console.Profile.Width = 4096; // one alert, one line, even when stdout is a pipe
            services.AddSingleton(console);
            services.AddHostedService<ConsoleAlertPrinter>();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddProcessors(IServiceCollection services, PipelineConfig config)
    {
        services.AddSingleton<StreamProcessorService>();
        services.AddHostedService(sp => sp.GetRequiredService<StreamProcessorService>());
        // A reload reaches this and the log tailer all or none (ConfigReloader prepares both before either switches).
        services.AddSingleton<IConfigReloadable>(sp => new Pipeline.Processors.Filtering.ProcessorChainReloader(
            sp.GetRequiredService<StreamProcessorService>().Chains, config, sp.GetRequiredService<ILogger<Pipeline.Processors.Filtering.ProcessorChainReloader>>()));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddProducers(IServiceCollection services, PipelineConfig config)
    {
        services.AddSingleton<LogTailer>();
        services.AddSingleton<IConfigReloadable>(sp => sp.GetRequiredService<LogTailer>());
        services.AddHostedService(sp => sp.GetRequiredService<LogTailer>());
        if (config.Process.Enabled) services.AddHostedService<ProcessSampler>();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddProbes(IServiceCollection services, PipelineConfig config, AgentProbes probes)
    {
        services.AddSingleton<IProbeReportSink, ProbePublisher>();
        if (probes.Conditions is not null)
        {
            services.AddSingleton<IProbeReportSink>(probes.Conditions);
            services.AddHostedService(_ => probes.Conditions);
        }
        services.AddHostedService(sp => new ProbeScheduler(probes.Probes, config.ProbeRunner.Concurrency, sp.GetServices<IProbeReportSink>(), sp.GetRequiredService<ILogger<ProbeScheduler>>()));
    }

    private static async Task StopWhenCaughtUpAsync(IHostApplicationLifetime lifetime, ILogger logger)
    {
        try
        {
            await StageProgress.WaitUntilCaughtUpAsync(StageProgress.LogTailer, lifetime.ApplicationStopping).ConfigureAwait(false);
            logger.LogInformation("--once: every input is read to its end; stopping once Kafka has acknowledged what was sent");
            lifetime.StopApplication();
        }
        catch (OperationCanceledException)
        {
            // Stopped for another reason first.
        }
    }

    private static bool Failed(List<IHostedService> services, ILogger logger)
    {
        bool failed = false;
        foreach (var service in services)
        {
            if (service is BackgroundService { ExecuteTask: { IsFaulted: true } task })
            {
                logger.LogCritical(task.Exception?.GetBaseException(), "{Service} failed", service.GetType().Name);
                failed = true;
            }
        }
        return failed;
    }

    /// <summary>Stops the embedded broker when the host stops; registered first, so it stops last.</summary>
    private sealed class EmbeddedBrokerLifetime(EmbeddedBroker broker) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            broker.Dispose();
            return Task.CompletedTask;
        }
    }
}
