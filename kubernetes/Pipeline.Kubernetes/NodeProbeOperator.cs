using System.Threading.Channels;
using k8s;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pipeline.Kubernetes;

/// <summary>
/// <c>pipeline operator</c>: watches NodeProbes cluster-wide and reconciles after every change (several changes
/// in a burst make one pass), and every <see cref="OperatorSettings.ResyncEvery"/> regardless. A failed pass
/// or a dropped watch is retried with backoff; the operator never exits over an API hiccup.
/// </summary>
public sealed class NodeProbeOperator(IKubernetes client, OperatorSettings settings, ILogger<NodeProbeOperator> logger) : BackgroundService
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly NodeProbeReconciler _reconciler = new(client, settings, logger);
    private long _passes;

    /// <summary>Completed reconcile passes, for tests and the log.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("operator started: managing DaemonSet {Namespace}/{DaemonSet}", settings.Namespace, settings.DaemonSetName);
        var watch = WatchAsync(stoppingToken);
        _wake.Writer.TryWrite(true);
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            using var resync = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            resync.CancelAfter(settings.ResyncEvery);
            try
            {
                await _wake.Reader.ReadAsync(resync.Token).ConfigureAwait(false);
                await Task.Delay(Debounce, stoppingToken).ConfigureAwait(false);
                _wake.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // Resync time.
            }
            catch (OperationCanceledException)
            {
                break;
            }
            try
            {
                await _reconciler.ReconcileAsync(stoppingToken).ConfigureAwait(false);
                Interlocked.Increment(ref _passes);
                backoff = TimeSpan.FromSeconds(1);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError("reconcile failed, retrying in {Backoff}: {Error}", backoff, e.Message);
                await Task.Delay(backoff, stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
                _wake.Writer.TryWrite(true);
            }
        }
        try { await watch.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
    }

    private async Task WatchAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var events = client.CustomObjects.WatchListClusterCustomObjectAsync(NodeProbe.Group, NodeProbe.Version, NodeProbe.Plural, cancellationToken: stop);
                await foreach (var (type, _) in events.ConfigureAwait(false))
                {
                    logger.LogDebug("NodeProbe {Type}: reconciling", type);
                    // Our own status writes come back as MODIFIED too; the reconcile they cause writes nothing.
                    _wake.Writer.TryWrite(true);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                logger.LogWarning("NodeProbe watch ended: {Error}; watching again", e.Message);
            }
            if (!stop.IsCancellationRequested) await Task.Delay(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
        }
    }
}
