using System.Globalization;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;

namespace Pipeline.Producers.Probes;

/// <summary>A report as an <c>ops.probes.v1</c> document (<c>event.kind = state</c>).</summary>
public sealed class ProbeEventEncoder(string hostName)
{
    private readonly HostInfo _host = new() { Name = hostName };

    public ProbeEvent ToEvent(ProbeReport report)
    {
        var probe = report.Probe;
        var result = report.Result;
        string? condition = probe.Config.Condition.Length > 0 ? probe.Config.Condition : null;
        return new ProbeEvent
        {
            Timestamp = report.Time,
            Event = new EventInfo
            {
                Kind = EventKinds.State,
                Dataset = TopicCatalog.Probes.Dataset,
                // One run of one probe on one host: a replay of the same record is recognised downstream.
                Id = EventIds.FromParts(_host.Name, probe.Name, report.Time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)),
                Action = report.ConditionFlipped ? "condition_changed" : null,
                Severity = result.Status == ProbeStatus.Problem ? probe.Severity : null,
            },
            Host = _host,
            Probe = new ProbeInfo
            {
                Name = probe.Name,
                Type = probe.Config.Type,
                Target = probe.Probe.Target,
                Status = ProbeStatusText.Of(result.Status),
                Reason = result.Reason,
                Condition = condition,
                ConditionStatus = condition is null ? null : ProbeStatusText.Of(report.ConditionStatus),
                DurationMs = Math.Round(report.DurationMs, 3),
                Value = result.Value,
            },
            Message = result.Message,
        };
    }

    public byte[] Encode(ProbeReport report) => EventSerializer.Serialize(ToEvent(report));
}
