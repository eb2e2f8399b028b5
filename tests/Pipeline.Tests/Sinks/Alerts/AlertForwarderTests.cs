using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Confluent.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks.Alerts;
using Pipeline.Testing;

namespace Pipeline.Tests.Sinks.Alerts;

/// <summary>Alerts delivered to the real Alertmanager and to a webhook receiver the test runs.</summary>
public class AlertForwarderTests
{
    private sealed class Rig : IAsyncDisposable
    {
        public Rig(Action<AlertsConfig> configure)
        {
            Broker.CreateTopics();
            Config = new PipelineConfig { DataDir = Dir.Path, HostName = "forwarder-host" };
            configure(Config.Alerts);
            Kafka = new KafkaSettings(Config.Kafka, Broker.Bootstrap, embedded: true);
            _producer = new ProducerBuilder<string, byte[]>(Kafka.Producer("test")).Build();
        }

        public TempDirectory Dir { get; } = new();
        public EmbeddedBroker Broker { get; } = new();
        public PipelineConfig Config { get; }
        public KafkaSettings Kafka { get; }
        private readonly IProducer<string, byte[]> _producer;
        private AlertForwarder? _forwarder;

        public async Task StartAsync()
        {
            _forwarder = new AlertForwarder(Config, Kafka, AlertForwarder.TargetsFrom(Config.Alerts), NullLogger<AlertForwarder>.Instance);
            await _forwarder.StartAsync(CancellationToken.None);
        }

        public async Task StopAsync()
        {
            if (_forwarder is null) return;
            await _forwarder.StopAsync(CancellationToken.None);
            _forwarder.Dispose();
            _forwarder = null;
        }

        public AlertEvent Publish(string status, DateTimeOffset startedAt, string host = "web-1")
        {
            var fingerprint = EventIds.FromParts("alert", "errors", host);
            var alert = new AlertEvent
            {
                Timestamp = DateTimeOffset.UtcNow,
                Event = new EventInfo { Kind = EventKinds.Alert, Dataset = "ops.alerts", Id = EventIds.FromParts(fingerprint, status, startedAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)) },
                Host = new HostInfo { Name = host },
                Alert = new AlertInfo
                {
                    Name = "errors", Status = status, Severity = "critical", Fingerprint = fingerprint, Value = 120, Threshold = 100,
                    Op = ">=", Window = "1m", Source = "logs", Group = new Dictionary<string, string> { ["host.name"] = host, ["log.file.path"] = "/var/log/app.log" },
                    StartedAt = startedAt,
                },
                Message = $"120 error lines in 1m on {host}",
                Labels = new Dictionary<string, string> { ["team"] = "payments" },
            };
            _producer.Produce(TopicCatalog.Alerts.Name, new Message<string, byte[]> { Key = fingerprint, Value = EventSerializer.Serialize(alert) });
            _producer.Flush(TimeSpan.FromSeconds(5));
            return alert;
        }

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            _producer.Dispose();
            Broker.Dispose();
            Dir.Dispose();
        }
    }

    [Fact]
    public async Task AFiringAlertReachesAlertmanagerWithLabelsAnnotationsAndStartsAtThenResolves()
    {
        if (AlertmanagerServer.MissingReason is { } reason) Assert.Skip(reason);
        await using var am = await AlertmanagerServer.StartAsync();
        await using var rig = new Rig(a => a.Alertmanager.Add(new AlertmanagerConfig { Url = am.Url.ToString(), GeneratorUrl = "http://kibana/app/discover?alert={{alert.name}}" }));
        await rig.StartAsync();
        var started = DateTimeOffset.UtcNow.AddSeconds(-30);
        rig.Publish(AlertStatus.Firing, started);

        var alerts = await Eventually.Get<List<System.Text.Json.JsonElement>>(async () => await am.AlertsAsync(), l => l?.Count == 1, TimeSpan.FromSeconds(30), "the alert in Alertmanager");
        var a = alerts[0];
        var labels = a.GetProperty("labels");
        Assert.Equal("errors", labels.GetProperty("alertname").GetString());
        Assert.Equal("critical", labels.GetProperty("severity").GetString());
        Assert.Equal("web-1", labels.GetProperty("host").GetString());
        Assert.Equal("payments", labels.GetProperty("team").GetString());
        Assert.Equal("/var/log/app.log", labels.GetProperty("log_file_path").GetString());
        var annotations = a.GetProperty("annotations");
        Assert.Equal("120 error lines in 1m on web-1", annotations.GetProperty("summary").GetString());
        Assert.Equal("120", annotations.GetProperty("value").GetString());
        Assert.Equal("100", annotations.GetProperty("threshold").GetString());
        Assert.Equal("1m", annotations.GetProperty("window").GetString());
        Assert.Equal(started.ToUnixTimeSeconds(), a.GetProperty("startsAt").GetDateTimeOffset().ToUnixTimeSeconds());
        Assert.Equal("http://kibana/app/discover?alert=errors", a.GetProperty("generatorURL").GetString());
        Assert.Equal("active", a.GetProperty("status").GetProperty("state").GetString());

        // A silence made through Alertmanager's own API mutes it: the labels are usable for routing.
        await am.SilenceAsync("host", "web-1");
        await Eventually.Get<List<System.Text.Json.JsonElement>>(async () => await am.AlertsAsync(), l => l?.Count == 1 && l[0].GetProperty("status").GetProperty("state").GetString() == "suppressed",
            TimeSpan.FromSeconds(30), "the alert silenced");

        var resolvedAt = DateTimeOffset.UtcNow;
        rig.Publish(AlertStatus.Resolved, started);
        // Alertmanager drops an alert from the active list once its endsAt has passed.
        await Eventually.Get<List<System.Text.Json.JsonElement>>(async () => await am.AlertsAsync(), l => l?.Count == 0, TimeSpan.FromSeconds(30), "the alert resolved");
    }

    [Fact]
    public async Task AnAlertFiredWhileAlertmanagerIsDownIsDeliveredWhenItComesBack()
    {
        if (AlertmanagerServer.MissingReason is { } reason) Assert.Skip(reason);
        await using var am = await AlertmanagerServer.StartAsync();
        await using var rig = new Rig(a => a.Alertmanager.Add(new AlertmanagerConfig { Url = am.Url.ToString() }));
        await rig.StartAsync();
        await am.StopProcessAsync();
        rig.Publish(AlertStatus.Firing, DateTimeOffset.UtcNow);
        await Task.Delay(TimeSpan.FromSeconds(10)); // down for 10 s (the 30 s, shortened for CI)
        await am.StartProcessAsync();
        var alerts = await Eventually.Get<List<System.Text.Json.JsonElement>>(async () => await am.AlertsAsync(), l => l?.Count == 1, TimeSpan.FromSeconds(60), "the alert after Alertmanager came back");
        Assert.Equal("web-1", alerts[0].GetProperty("labels").GetProperty("host").GetString());
        Assert.True(PipelineMetricsValue("alertmanager", "retried") > 0);
    }

    private static double PipelineMetricsValue(string target, string outcome)
        => Pipeline.Plumbing.Telemetry.PipelineMetrics.AlertDeliveries.WithLabels(target, outcome).Value;

    [Fact]
    public async Task AWebhookGetsEachStateChangeOnceSignedEvenAfterFailures()
    {
        var received = new ConcurrentQueue<(string Delivery, string Status)>();
        int failuresLeft = 3;
        const string secret = "s3cret";
        var app = WebApplication.CreateSlimBuilder();
        app.WebHost.UseUrls("http://127.0.0.1:0");
        await using var web = app.Build();
        web.MapPost("/hook", async (HttpContext ctx) =>
        {
            using var body = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            if (ctx.Request.Headers[WebhookTarget.SignatureHeader] != WebhookTarget.Sign(bytes, Encoding.UTF8.GetBytes(secret)))
                return Results.StatusCode(401);
            if (Interlocked.Decrement(ref failuresLeft) >= 0) return Results.StatusCode(503);
            var alert = EventSerializer.Deserialize(bytes, EventJsonContext.Default.AlertEvent);
            received.Enqueue((ctx.Request.Headers[WebhookTarget.DeliveryHeader].ToString(), alert.Alert.Status));
            return Results.Ok();
        });
        await web.StartAsync();
        var url = web.Urls.First() + "/hook";

        await using var rig = new Rig(a => a.Webhooks.Add(new WebhookConfig { Url = url, Secret = secret }));
        await rig.StartAsync();
        var started = DateTimeOffset.UtcNow;
        var firing = rig.Publish(AlertStatus.Firing, started);
        var resolved = rig.Publish(AlertStatus.Resolved, started);
        await Eventually.Get(() => Task.FromResult<int?>(received.Count), n => n == 2, TimeSpan.FromSeconds(60), "two deliveries");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal([(firing.Event.Id, AlertStatus.Firing), (resolved.Event.Id, AlertStatus.Resolved)], received.ToArray());
        await web.StopAsync();
    }

    [Fact]
    public void LabelNamesAreMadeValidForPrometheus()
    {
        Assert.Equal("log_file_path", AlertmanagerTarget.LabelName("log.file.path"));
        Assert.Equal("_1x", AlertmanagerTarget.LabelName("1x"));
    }
}
