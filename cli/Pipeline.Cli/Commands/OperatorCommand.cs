using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Kubernetes;
using Pipeline.Plumbing.Telemetry;

namespace Pipeline.Cli.Commands;

/// <summary><c>pipeline operator</c>: the NodeProbe operator (deploy/k8s/operator.yaml runs it).</summary>
internal static class OperatorCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var ns = new Option<string>("--namespace") { Description = "Namespace of the agent DaemonSet and ConfigMap. Default: $POD_NAMESPACE, else pipeline-system.", HelpName = "NS" };
        var image = new Option<string>("--agent-image") { Description = "Image the agent DaemonSet runs. Default: $PIPELINE_IMAGE.", HelpName = "IMAGE" };
        var kubeconfig = new Option<FileInfo?>("--kubeconfig") { Description = "Outside a cluster: the kubeconfig to use. Default: $KUBECONFIG or ~/.kube/config.", HelpName = "FILE" };
        var command = new Command("operator", """
            Run the Kubernetes operator for NodeProbe resources (ops.pipeline.dev/v1alpha1). It watches every
            NodeProbe, keeps one agent DaemonSet scheduled on the union of their node selectors with the probes
            in a generated ConfigMap, and writes each NodeProbe's status (nodes covered, probes, Ready condition
            with the reason when a spec is invalid). Reconciling is idempotent: a pass over an unchanged cluster
            writes nothing. The agents report probe results as NodeConditions on their own node.
            kafka.bootstrap from --config is where the agents publish ops.probes.v1.

            Examples:
              kubectl apply -f deploy/k8s/                          # CRD, RBAC, this operator, an example NodeProbe
              pipeline operator --kubeconfig ~/.kube/config --namespace pipeline-system --agent-image registry/pipeline:0.1.0
              kubectl get nodeprobe -A
            """) { config, ns, image, kubeconfig };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var loaded = CommonOptions.Load(parse.GetValue(config));
            if (loaded is null) return CommonOptions.ExitConfigError;
            var settings = new OperatorSettings
            {
                Namespace = parse.GetValue(ns) ?? Environment.GetEnvironmentVariable("POD_NAMESPACE") ?? "pipeline-system",
                AgentImage = parse.GetValue(image) ?? Environment.GetEnvironmentVariable("PIPELINE_IMAGE") ?? new OperatorSettings().AgentImage,
                KafkaBootstrap = loaded.Config.Kafka.Bootstrap,
            };
            k8s.IKubernetes client;
            try
            {
                client = KubernetesConnection.Create(parse.GetValue(kubeconfig)?.FullName);
            }
            catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or FileNotFoundException)
            {
                Console.Error.WriteLine($"error: no Kubernetes API to talk to: {e.Message}");
                return CommonOptions.ExitFailure;
            }
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            ConsoleLogging.Configure(builder.Logging);
            builder.Services.AddSingleton(loaded.Config.Metrics);
            builder.Services.AddHostedService<MetricsEndpoint>();
            builder.Services.AddHostedService(sp => new NodeProbeOperator(client, settings, sp.GetRequiredService<ILogger<NodeProbeOperator>>()));
            using var host = builder.Build();
            await host.RunAsync(stop.Token).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
