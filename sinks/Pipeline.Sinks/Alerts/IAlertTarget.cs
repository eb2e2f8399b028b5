using Pipeline.Schemas.Events;

namespace Pipeline.Sinks.Alerts;

/// <summary>An alert with the exact bytes it had on <c>ops.alerts.v1</c>, and where it came from.</summary>
public sealed record ForwardedAlert(AlertEvent Alert, byte[] Raw, string Topic, int Partition, long Offset);

/// <summary>A downstream that receives alert state changes (Alertmanager, a webhook).</summary>
public interface IAlertTarget : IDisposable
{
    /// <summary>For logs and metric labels, e.g. <c>alertmanager http://am:9093</c>.</summary>
    string Name { get; }

    /// <summary>Whether this target wants firing alerts re-sent periodically (Alertmanager times them out otherwise).</summary>
    bool WantsResend { get; }

    /// <summary>Delivers the alerts once; throws <see cref="AlertDeliveryException"/> (or an HTTP error) when the target did not accept them.</summary>
    Task SendAsync(IReadOnlyList<ForwardedAlert> alerts, CancellationToken cancellationToken);
}

public sealed class AlertDeliveryException(string message) : Exception(message);
