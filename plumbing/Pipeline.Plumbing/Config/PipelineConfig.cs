using Tomlyn.Serialization;

namespace Pipeline.Plumbing.Config;

// The TOML file is a user contract: property names map to snake_case keys (DataDir -> data_dir),
// every section has defaults so an empty file is valid, and each default is stated on its property.

/// <summary>The whole configuration file.</summary>
public sealed class PipelineConfig
{
    /// <summary>Where checkpoints, the bootstrap file, stream state and NDJSON output live. Default <c>./pipeline-data</c>.</summary>
    public string DataDir { get; set; } = "./pipeline-data";

    /// <summary><c>host.name</c> stamped on events. Default: the machine's host name.</summary>
    public string HostName { get; set; } = "";

    public KafkaConfig Kafka { get; set; } = new();
    public MetricsConfig Metrics { get; set; } = new();
    public LogsConfig Logs { get; set; } = new();
    public ProcessConfig Process { get; set; } = new();
    public ProcessorsConfig Processors { get; set; } = new();

    /// <summary>Threshold rules (<c>[[rules]]</c>). Built-in rules are added unless <c>processors.default_rules = false</c>.</summary>
    public List<RuleConfig> Rules { get; set; } = [];

    public ElasticsearchConfig Elasticsearch { get; set; } = new();
    /// <summary>Health probes (<c>[[probes]]</c>) the agent runs and publishes to <c>ops.probes.v1</c>. Default: none.</summary>
    public List<ProbeConfig> Probes { get; set; } = [];
    public ProbeRunnerConfig ProbeRunner { get; set; } = new();
    public SinksConfig Sinks { get; set; } = new();
    public AlertsConfig Alerts { get; set; } = new();
    public DebugConfig Debug { get; set; } = new();
    public RuntimeHealthConfig RuntimeHealth { get; set; } = new();

    /// <summary>Directory of custom filter plugin assemblies (each implements IEventFilterFactory). Default: none.</summary>
    public string PluginDir { get; set; } = "";
    public ExporterConfig Exporter { get; set; } = new();
    public TelemetryConfig Telemetry { get; set; } = new();

    /// <summary>The host name to stamp on events.</summary>
    [TomlIgnore]
    public string EffectiveHostName => string.IsNullOrWhiteSpace(HostName) ? Environment.MachineName : HostName;
}

public sealed class KafkaConfig
{
    public const string Embedded = "embedded";

    /// <summary><c>"embedded"</c> (default): run librdkafka's in-memory mock cluster in this process. Otherwise <c>"host:port,..."</c>.</summary>
    public string Bootstrap { get; set; } = Embedded;

    /// <summary>Fixed loopback port for the embedded broker's bootstrap address. Default 0: a random port.</summary>
    public int EmbeddedPort { get; set; }

    /// <summary>Brokers in the embedded cluster. Default 1.</summary>
    public int EmbeddedBrokers { get; set; } = 1;

    /// <summary>Kafka <c>client.id</c> prefix. Default <c>pipeline</c>.</summary>
    public string ClientId { get; set; } = "pipeline";

    /// <summary>How long a produced record may wait for an ack before it is reported failed and retried from the source. Default 30s.</summary>
    public string DeliveryTimeout { get; set; } = "30s";

    /// <summary><c>PLAINTEXT</c> (default), <c>SSL</c>, <c>SASL_PLAINTEXT</c> or <c>SASL_SSL</c>.</summary>
    public string SecurityProtocol { get; set; } = "PLAINTEXT";

    /// <summary><c>PLAIN</c>, <c>SCRAM-SHA-256</c>, <c>SCRAM-SHA-512</c> or <c>OAUTHBEARER</c> (with SASL_* protocols).</summary>
    public string SaslMechanism { get; set; } = "";

    public string SaslUsername { get; set; } = "";

    /// <summary>Use <c>${env:NAME}</c>.</summary>
    [Secret] public string SaslPassword { get; set; } = "";

    /// <summary>PEM file of the CA that signed the brokers' certificates. Default: the system's store.</summary>
    public string SslCaLocation { get; set; } = "";

    /// <summary>Client certificate (PEM) for mutual TLS.</summary>
    public string SslCertificateLocation { get; set; } = "";

    /// <summary>Client key (PEM) for mutual TLS.</summary>
    public string SslKeyLocation { get; set; } = "";

    /// <summary><c>https</c> (default: check the broker's host name against its certificate) or <c>none</c>.</summary>
    public string SslEndpointIdentificationAlgorithm { get; set; } = "https";

    /// <summary>Extra librdkafka properties passed through unchanged (they win over the keys above).</summary>
    public Dictionary<string, string> Properties { get; set; } = [];

    [TomlIgnore]
    public bool IsEmbedded => string.Equals(Bootstrap, Embedded, StringComparison.OrdinalIgnoreCase);
}

public sealed class MetricsConfig
{
    /// <summary>Address of the Prometheus <c>/metrics</c> endpoint. Default <c>127.0.0.1:9464</c>; empty turns it off.</summary>
    public string Listen { get; set; } = "127.0.0.1:9464";
}

public sealed class LogsConfig
{
    /// <summary>Files to tail (<c>[[logs.inputs]]</c>). When none are configured, <c>/var/log/*.log</c> and <c>/var/log/syslog</c> are tailed from their end.</summary>
    public List<LogInputConfig> Inputs { get; set; } = [];

    /// <summary>
    /// Most bytes of encoded events sent to Kafka and not yet acknowledged, over all inputs. When it is
    /// reached, reading pauses until Kafka catches up: the files are the buffer, so memory stays bounded
    /// while Kafka is slow or down. One event may go past it. Default 4 MiB (about 11,000 events of 370 B,
    /// 40 ms of the agent's top speed: enough to keep batches full against a broker a few ms away, and
    /// librdkafka's copies of it stay ~6 MiB of the agent's RSS; bench/RESULTS.md); at least 64 KiB.
    /// </summary>
    public long MaxInFlightBytes { get; set; } = 4 * 1024 * 1024;
}

public sealed class LogInputConfig
{
    /// <summary>Glob patterns (<c>**</c> allowed) of files to read.</summary>
    public List<string> Paths { get; set; } = [];

    /// <summary>Glob patterns of files to skip.</summary>
    public List<string> Exclude { get; set; } = [];

    /// <summary>Where to start in a file seen for the first time: <c>"beginning"</c> or <c>"end"</c> (default).</summary>
    public string StartAt { get; set; } = "end";

    /// <summary>Longer lines are truncated and flagged <c>log.flags=["truncated"]</c>. Default 1 MiB.</summary>
    public int MaxLineBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How often files are polled for new data and new files. File system notifications (inotify) wake the
    /// tailer sooner where they work; this poll is the fallback that keeps a missed notification from
    /// stalling a file. Default 250ms.
    /// </summary>
    public string ScanInterval { get; set; } = "250ms";

    /// <summary>Added to every event as <c>labels</c>.</summary>
    public Dictionary<string, string> Fields { get; set; } = [];

    /// <summary>Added to every event's <c>tags</c>.</summary>
    public List<string> Tags { get; set; } = [];

    /// <summary>How the files are encoded: <c>"utf-8"</c> (default), <c>"utf-16le"</c>, <c>"utf-16be"</c> or <c>"latin-1"</c>. Events are always UTF-8; offsets are bytes of the file.</summary>
    public string Encoding { get; set; } = "utf-8";

    /// <summary>
    /// Parse each line (or multiline event) as a JSON object into the event's <c>json</c> field. A line
    /// that is not a JSON object is shipped as it is, flagged <c>log.flags=["json_error"]</c>. Default false.
    /// </summary>
    public bool Json { get; set; }

    /// <summary>Joins lines into one event (<c>[logs.inputs.multiline]</c>). Default: off, one line is one event.</summary>
    public MultilineConfig Multiline { get; set; } = new();

    /// <summary>Filter chain run on this input's events at the edge (<c>[[logs.inputs.filters]]</c>).</summary>
    public List<Filters.FilterConfig> Filters { get; set; } = [];
}

public sealed class ProcessorsConfig
{
    /// <summary>Add the built-in rules (see <see cref="BuiltInRules"/>). A user rule with the same name replaces one. Default true.</summary>
    public bool DefaultRules { get; set; } = true;

    /// <summary>Kafka Streams application id; also the consumer group. Default <c>pipeline-processors</c>.</summary>
    public string ApplicationId { get; set; } = "pipeline-processors";

    /// <summary>How often the rule evaluator checks for windows that closed below threshold. Default 1s.</summary>
    public string EvaluationInterval { get; set; } = "1s";

    /// <summary><c>at_least_once</c> (default) or <c>exactly_once</c> (Kafka transactions; alerts are read with isolation.level=read_committed).</summary>
    public string Guarantee { get; set; } = "at_least_once";

    /// <summary>Filter chains per source topic (<c>[[processors.filters]]</c> with <c>source</c>), run before the rules. Reloaded when the config file changes.</summary>
    public List<Filters.FilterConfig> Filters { get; set; } = [];

    /// <summary>Also write each filtered source to <c>&lt;topic&gt;.filtered</c> (e.g. <c>ops.logs.v1.filtered</c>) for the sinks. Default false.</summary>
    public bool WriteFiltered { get; set; }

    /// <summary>How late (by <c>@timestamp</c>) an event may arrive and still count in its window. Later ones are dropped and counted. Default 5s.</summary>
    public string Grace { get; set; } = "5s";

    /// <summary>
    /// Restart the stream in-process when its thread has not polled Kafka for this long while the stream reports it
    /// runs (Streamiz 1.8.2 can stop polling for good after a commit refused mid-rebalance). 0 turns it off. Default 30s.
    /// </summary>
    public string StallTimeout { get; set; } = "30s";
}

public sealed class RuleConfig
{
    /// <summary>Unique rule name; becomes <c>alert.name</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>Which events the rule reads: <c>logs</c>, <c>process</c> or <c>probes</c>. Default <c>logs</c>.</summary>
    public string Source { get; set; } = "logs";

    /// <summary>Filter in the expression language, e.g. <c>log.level == "error"</c>. Default: every event.</summary>
    public string Where { get; set; } = "true";

    /// <summary>Field paths to group by. Default <c>["host.name"]</c>.</summary>
    public List<string> GroupBy { get; set; } = ["host.name"];

    /// <summary><c>count()</c> (default), <c>sum(f)</c>, <c>avg(f)</c>, <c>max(f)</c>, <c>min(f)</c>.</summary>
    public string Aggregate { get; set; } = "count()";

    /// <summary>Comparison: <c>&gt;</c>, <c>&gt;=</c> (default), <c>&lt;</c>, <c>&lt;=</c>, <c>==</c>, <c>!=</c>.</summary>
    public string Op { get; set; } = ">=";

    public double Threshold { get; set; }

    /// <summary><c>threshold</c> (default): aggregate op threshold per window. <c>absent</c>: fires when a group sends no event for <c>window</c>.</summary>
    public string Kind { get; set; } = "threshold";

    /// <summary>Window length. Default <c>1m</c>.</summary>
    public string Window { get; set; } = "1m";

    /// <summary>Window advance: equal to <c>window</c> (default, empty) for tumbling windows, shorter for hopping windows.</summary>
    public string Every { get; set; } = "";

    /// <summary>How long the condition must keep holding before the alert fires, as in Prometheus. Default 0s: at once.</summary>
    public string For { get; set; } = "0s";

    /// <summary>Re-announce a still-firing alert this often. Default 0s: never (it fires once and resolves once).</summary>
    public string RepeatInterval { get; set; } = "0s";

    /// <summary><c>info</c>, <c>warning</c> (default) or <c>critical</c>.</summary>
    public string Severity { get; set; } = "warning";

    /// <summary>Alert message template; <c>{{value}}</c>, <c>{{threshold}}</c>, <c>{{window}}</c> and group fields such as <c>{{host.name}}</c> are replaced.</summary>
    public string Summary { get; set; } = "";

    /// <summary>Added to the alert's labels.</summary>
    public Dictionary<string, string> Labels { get; set; } = [];

    /// <summary>Set false to turn a rule (or a built-in rule of the same name) off. Default true.</summary>
    public bool Enabled { get; set; } = true;
}

public sealed class ElasticsearchConfig
{
    /// <summary>
    /// Elasticsearch URL, e.g. <c>http://localhost:9200</c>; several nodes comma-separated. Empty (default): write NDJSON
    /// files under <c>data_dir/ndjson</c> instead.
    /// </summary>
    public string Url { get; set; } = "";

    /// <summary>Data stream namespace: <c>logs-ops.logs-{namespace}</c>. Default <c>default</c>.</summary>
    public string Namespace { get; set; } = "default";

    /// <summary>API key, the base64 "encoded" value Elasticsearch returns (use <c>${env:NAME}</c>). Wins over username/password.</summary>
    [Secret] public string ApiKey { get; set; } = "";

    /// <summary>Basic-auth user, used when there is no <c>api_key</c>.</summary>
    public string Username { get; set; } = "";

    /// <summary>Basic-auth password (use <c>${env:NAME}</c>).</summary>
    [Secret] public string Password { get; set; } = "";

    /// <summary>
    /// PEM file of the CA that signed the cluster's HTTP certificate (Elasticsearch writes it to
    /// <c>config/certs/http_ca.crt</c>). The server certificate must chain to it. Default empty: the system trust store.
    /// </summary>
    public string CaCertificate { get; set; } = "";

    /// <summary>
    /// Hex SHA-256 fingerprint of the cluster's CA (or its own) certificate, as Elasticsearch prints at first start; colons
    /// are allowed. An alternative to <c>ca_certificate</c>. Default empty.
    /// </summary>
    public string CaFingerprint { get; set; } = "";

    /// <summary>How long one bulk or setup request may take before it counts as failed and is retried. Default 60s.</summary>
    public string RequestTimeout { get; set; } = "60s";

    /// <summary>Install the ILM policy and the index templates for the pipeline's data streams at startup. Default true.</summary>
    public bool InstallTemplates { get; set; } = true;

    /// <summary>ILM: roll a data stream's write index over after this long (or at 50 GB per primary shard). Default 1d.</summary>
    public string IlmRolloverAfter { get; set; } = "1d";

    /// <summary>ILM: delete a backing index this long after its rollover. Default 30d.</summary>
    public string IlmDeleteAfter { get; set; } = "30d";
}

public sealed class SinksConfig
{
    /// <summary>
    /// Most records written per bulk request or file append. Default 2000: where throughput into Elasticsearch stopped
    /// growing in bench/es.sh (bench/RESULTS.md, "Sinks"), at well under a megabyte per request for typical events.
    /// </summary>
    public int BatchSize { get; set; } = 2000;

    /// <summary>
    /// Most bytes of record values per bulk request (before gzip); a batch is sent when it reaches either limit.
    /// Default 5 MiB (5242880), well under Elasticsearch's 100 MB <c>http.max_content_length</c>.
    /// </summary>
    public int MaxBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>Longest a partial batch waits (from its first record) before it is written. Default 500ms.</summary>
    public string Linger { get; set; } = "500ms";

    /// <summary>
    /// Bulk requests in flight at once. Offsets are still committed in order, only up to where every record is written or
    /// dead-lettered. Memory the sink holds is at most about <c>(in_flight + 1) * max_bytes</c> plus Kafka's 16 MiB
    /// prefetch. Default 2.
    /// </summary>
    public int InFlight { get; set; } = 2;

    /// <summary>Consumer group of the sinks. Default <c>pipeline-sinks</c>.</summary>
    public string GroupId { get; set; } = "pipeline-sinks";

    /// <summary>Longest time a batch is retried against a failing backend before the sink gives up and exits non-zero (nothing is committed). Default 0: forever.</summary>
    public string GiveUpAfter { get; set; } = "0s";

    /// <summary>Without <c>elasticsearch.url</c>: start a new NDJSON file once the current one reaches this size. Default 128 MiB (134217728).</summary>
    public long NdjsonMaxFileBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Print one line per alert to the console (on by default in <c>pipeline run</c>).</summary>
    public bool ConsoleAlerts { get; set; } = true;
}

/// <summary>Marks a value that <c>pipeline config check</c> must never print.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SecretAttribute : Attribute;
