namespace Pipeline.Plumbing.Config;

/// <summary><c>[alerts]</c>: delivering <c>ops.alerts.v1</c> to Alertmanager and webhooks.</summary>
public sealed class AlertsConfig
{
    /// <summary>Consumer group of the alert forwarder. Default <c>pipeline-alert-forwarder</c>.</summary>
    public string GroupId { get; set; } = "pipeline-alert-forwarder";

    /// <summary>Alertmanagers to post to (<c>[[alerts.alertmanager]]</c>); every alert goes to all of them, as Prometheus does for an HA pair.</summary>
    public List<AlertmanagerConfig> Alertmanager { get; set; } = [];

    /// <summary>Webhooks (<c>[[alerts.webhooks]]</c>): a signed JSON POST of each alert document.</summary>
    public List<WebhookConfig> Webhooks { get; set; } = [];

    /// <summary>Re-send firing alerts this often, shorter than Alertmanager's resolve_timeout (5m), so it does not time them out. Default 1m.</summary>
    public string ResendInterval { get; set; } = "1m";

    /// <summary>Stop retrying a target after this long: the give-up is counted and logged, and for webhooks the alert is dead-lettered. Default 10m.</summary>
    public string GiveUpAfter { get; set; } = "10m";
}

/// <summary>One Alertmanager (<c>[[alerts.alertmanager]]</c>).</summary>
public sealed class AlertmanagerConfig
{
    /// <summary>Base URL, e.g. <c>http://alertmanager:9093</c>; alerts go to <c>/api/v2/alerts</c>.</summary>
    public string Url { get; set; } = "";

    public string Username { get; set; } = "";

    [Secret] public string Password { get; set; } = "";

    /// <summary>Bearer token (use <c>${env:NAME}</c>).</summary>
    [Secret] public string BearerToken { get; set; } = "";

    /// <summary>PEM file of the CA that signed the Alertmanager's certificate. Default: the system's trust store.</summary>
    public string CaFile { get; set; } = "";

    /// <summary>Link back to the source, with <c>{{alert.name}}</c> and <c>{{host.name}}</c> replaced, e.g. a Kibana URL. Default: none.</summary>
    public string GeneratorUrl { get; set; } = "";
}

/// <summary>One webhook (<c>[[alerts.webhooks]]</c>).</summary>
public sealed class WebhookConfig
{
    public string Url { get; set; } = "";

    /// <summary>HMAC-SHA256 key; the signature of the body is sent as <c>X-Pipeline-Signature: sha256=&lt;hex&gt;</c>.</summary>
    [Secret] public string Secret { get; set; } = "";

    /// <summary>PEM file of the CA for an https URL. Default: the system's trust store.</summary>
    public string CaFile { get; set; } = "";
}
