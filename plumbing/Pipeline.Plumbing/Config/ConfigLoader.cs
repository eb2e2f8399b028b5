using System.Text.Json;
using Pipeline.Plumbing.Expressions;
using Pipeline.Plumbing.Filters;
using Pipeline.Schemas.Topics;
using Tomlyn;
using Tomlyn.Parsing;

namespace Pipeline.Plumbing.Config;

/// <summary>A config as loaded: the values, and where each came from (for error messages at run time).</summary>
public sealed record LoadedConfig(PipelineConfig Config, string Source, IReadOnlyDictionary<string, ConfigLocation> Locations)
{
    public ConfigLocation LocationOf(string path)
        => Locations.TryGetValue(path, out var location) ? location : new ConfigLocation(Source, 0, 0);
}

/// <summary>Reads and checks the one TOML config file. Every problem is a <see cref="ConfigException"/> naming file, line and column.</summary>
public static class ConfigLoader
{
    private static readonly TomlSerializerOptions SerializerOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>Loads <paramref name="path"/>, or the defaults when it is null.</summary>
    public static LoadedConfig Load(string? path)
    {
        if (path is null) return Parse("", "(defaults)");
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(new ConfigLocation(path, 0, 0), $"cannot read config file: {e.Message}");
        }
        return Parse(text, path);
    }

    public static LoadedConfig Parse(string text, string source)
    {
        try
        {
            return ParseChecked(text, source);
        }
        catch (Exception e) when (e is not ConfigException and (ArgumentException or InvalidOperationException or IndexOutOfRangeException or FormatException or OverflowException))
        {
            // Found by fuzzing: Tomlyn can throw on some malformed text (e.g. an escape naming a
            // surrogate code point) instead of reporting a diagnostic. It is still just a bad file.
            throw new ConfigException(new ConfigLocation(source, 0, 0), $"not valid TOML: {e.Message}");
        }
    }

    private static LoadedConfig ParseChecked(string text, string source)
    {
        var document = SyntaxParser.Parse(text, source);
        if (document.HasErrors)
        {
            var errors = new List<ConfigError>();
            foreach (var d in document.Diagnostics)
            {
                errors.Add(new ConfigError(new ConfigLocation(source, d.Span.Start.Line + 1, d.Span.Start.Column + 1), d.Message));
            }
            throw new ConfigException(errors);
        }

        var shape = new TomlShapeChecker(source);
        shape.Check(document, typeof(PipelineConfig));
        if (shape.Errors.Count > 0) throw new ConfigException(shape.Errors);

        PipelineConfig config;
        try
        {
            config = TomlSerializer.Deserialize<PipelineConfig>(text, SerializerOptions) ?? new PipelineConfig();
        }
        catch (TomlException e)
        {
            throw new ConfigException(new ConfigLocation(source, e.Line ?? 0, e.Column ?? 0), CleanMessage(e));
        }

        EnvInterpolation.ExpandAll(config);
        var loaded = new LoadedConfig(config, source, shape.Locations);
        var problems = ConfigValidator.Validate(loaded);
        if (problems.Count > 0) throw new ConfigException(problems);
        return loaded;
    }

    // Tomlyn prefixes "file(line,col) : error : "; we print the location our own way.
    private static string CleanMessage(TomlException e)
    {
        var message = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0].Trim();
        int marker = message.IndexOf(": error :", StringComparison.Ordinal);
        return marker >= 0 ? message[(marker + 9)..].Trim() : message;
    }
}

/// <summary>Checks of meaning, after the shape is known to be right.</summary>
internal static class ConfigValidator
{
    private static readonly string[] Severities = ["info", "warning", "critical"];
    private static readonly string[] Ops = [">", ">=", "<", "<=", "==", "!="];
    private static readonly string[] Encodings = ["utf-8", "utf-16le", "utf-16be", "latin-1"];
    private const long MinInFlightBytes = 64 * 1024;
    private static readonly TimeSpan MinStallTimeout = TimeSpan.FromSeconds(10);

    public static List<ConfigError> Validate(LoadedConfig loaded)
    {
        var c = loaded.Config;
        var errors = new List<ConfigError>();
        void Fail(string path, string message) => errors.Add(new ConfigError(loaded.LocationOf(path), message));
        void CheckDuration(string path, string value, bool positive = true)
        {
            if (!Duration.TryParse(value, out var d)) Fail(path, $"'{path}' = \"{value}\" is not a duration; write e.g. 500ms, 30s, 5m, 1h");
            else if (positive && d <= TimeSpan.Zero) Fail(path, $"'{path}' must be longer than 0");
        }

        if (string.IsNullOrWhiteSpace(c.DataDir)) Fail("data_dir", "'data_dir' must not be empty");

        if (!c.Kafka.IsEmbedded)
        {
            foreach (var broker in c.Kafka.Bootstrap.Split(',', StringSplitOptions.TrimEntries))
            {
                if (!TryParseHostPort(broker, out _, out _))
                    Fail("kafka.bootstrap", $"'kafka.bootstrap' entry \"{broker}\" is not host:port; use \"embedded\" or \"host1:9092,host2:9092\"");
            }
        }
        if (c.Kafka.EmbeddedPort is < 0 or > 65535) Fail("kafka.embedded_port", "'kafka.embedded_port' must be 0 (random) or a port 1-65535");
        if (c.Kafka.EmbeddedBrokers is < 1 or > 9) Fail("kafka.embedded_brokers", "'kafka.embedded_brokers' must be 1-9");
        CheckDuration("kafka.delivery_timeout", c.Kafka.DeliveryTimeout);
        var k = c.Kafka;
        if (k.SecurityProtocol is not ("PLAINTEXT" or "SSL" or "SASL_PLAINTEXT" or "SASL_SSL"))
            Fail("kafka.security_protocol", $"'kafka.security_protocol' = \"{k.SecurityProtocol}\" must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL");
        bool sasl = k.SecurityProtocol.StartsWith("SASL", StringComparison.Ordinal);
        if (sasl && k.SaslMechanism is not ("PLAIN" or "SCRAM-SHA-256" or "SCRAM-SHA-512" or "OAUTHBEARER"))
            Fail("kafka.sasl_mechanism", $"'kafka.sasl_mechanism' = \"{k.SaslMechanism}\" must be PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER with {k.SecurityProtocol}");
        if (!sasl && k.SaslMechanism.Length > 0)
            Fail("kafka.sasl_mechanism", $"'kafka.sasl_mechanism' is set but security_protocol is {k.SecurityProtocol}; use SASL_PLAINTEXT or SASL_SSL");
        if (sasl && k.SaslMechanism is "PLAIN" or "SCRAM-SHA-256" or "SCRAM-SHA-512" && (k.SaslUsername.Length == 0 || k.SaslPassword.Length == 0))
            Fail("kafka.sasl_username", $"SASL {k.SaslMechanism} needs 'kafka.sasl_username' and 'kafka.sasl_password'");
        foreach (var (key, path) in new[] { ("ssl_ca_location", k.SslCaLocation), ("ssl_certificate_location", k.SslCertificateLocation), ("ssl_key_location", k.SslKeyLocation) })
        {
            if (path.Length > 0 && !File.Exists(path)) Fail($"kafka.{key}", $"'kafka.{key}' = \"{path}\": no such file");
        }
        if ((k.SslCertificateLocation.Length > 0) != (k.SslKeyLocation.Length > 0))
            Fail("kafka.ssl_key_location", "'kafka.ssl_certificate_location' and 'kafka.ssl_key_location' go together (mutual TLS)");
        if (k.SslEndpointIdentificationAlgorithm is not ("https" or "none"))
            Fail("kafka.ssl_endpoint_identification_algorithm", $"'kafka.ssl_endpoint_identification_algorithm' = \"{k.SslEndpointIdentificationAlgorithm}\" must be \"https\" or \"none\"");

        if (c.Metrics.Listen.Length > 0 && !TryParseHostPort(c.Metrics.Listen, out _, out _))
            Fail("metrics.listen", $"'metrics.listen' = \"{c.Metrics.Listen}\" is not host:port (e.g. 127.0.0.1:9464); use \"\" to turn metrics off");

        for (int i = 0; i < c.Logs.Inputs.Count; i++)
        {
            var input = c.Logs.Inputs[i];
            var p = $"logs.inputs[{i}]";
            if (input.Paths.Count == 0) Fail(p, $"[[logs.inputs]] #{i + 1} has no 'paths'; add e.g. paths = [\"/var/log/app/*.log\"]");
            if (input.StartAt is not ("beginning" or "end")) Fail($"{p}.start_at", $"'start_at' = \"{input.StartAt}\" must be \"beginning\" or \"end\"");
            if (input.MaxLineBytes < 256) Fail($"{p}.max_line_bytes", "'max_line_bytes' must be at least 256");
            CheckDuration($"{p}.scan_interval", input.ScanInterval);
            if (Array.IndexOf(Encodings, input.Encoding) < 0)
                Fail($"{p}.encoding", $"'encoding' = \"{input.Encoding}\" must be one of {string.Join(", ", Encodings)}");
            CheckMultiline(input.Multiline, $"{p}.multiline", errors, loaded);
        }
        if (c.Logs.MaxInFlightBytes < MinInFlightBytes)
            Fail("logs.max_in_flight_bytes", $"'logs.max_in_flight_bytes' must be at least {MinInFlightBytes} (64 KiB)");

        ValidateProcess(loaded, errors, Fail, CheckDuration);

        CheckDuration("processors.evaluation_interval", c.Processors.EvaluationInterval);
        CheckDuration("processors.grace", c.Processors.Grace, positive: false);
        CheckDuration("processors.stall_timeout", c.Processors.StallTimeout, positive: false);
        if (Duration.TryParse(c.Processors.StallTimeout, out var stall) && stall > TimeSpan.Zero && stall < MinStallTimeout)
            Fail("processors.stall_timeout", $"'processors.stall_timeout' = \"{c.Processors.StallTimeout}\" must be 0 (off) or at least {MinStallTimeout.TotalSeconds:0}s: the stream thread reports that it polls every 5s");
        if (c.Processors.Guarantee is not ("at_least_once" or "exactly_once"))
            Fail("processors.guarantee", $"'processors.guarantee' = \"{c.Processors.Guarantee}\" must be \"at_least_once\" or \"exactly_once\"");
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < c.Rules.Count; i++)
        {
            var rule = c.Rules[i];
            var p = $"rules[{i}]";
            if (string.IsNullOrWhiteSpace(rule.Name)) { Fail(p, $"[[rules]] #{i + 1} has no 'name'"); continue; }
            if (!IsSimpleName(rule.Name)) Fail($"{p}.name", $"rule name \"{rule.Name}\" may hold only letters, digits, '-' and '_'");
            if (!names.Add(rule.Name)) Fail($"{p}.name", $"rule name \"{rule.Name}\" is used twice");
            if (!rule.Enabled) continue;
            if (!TopicCatalog.Sources.ContainsKey(rule.Source))
                Fail($"{p}.source", $"rule \"{rule.Name}\": source \"{rule.Source}\" must be one of {string.Join(", ", TopicCatalog.Sources.Keys)}");
            try { Expression.Parse(rule.Where); }
            catch (ExpressionException e) { FailInString(errors, loaded, $"{p}.where", e, $"rule \"{rule.Name}\": where: {e.Message}"); }
            try { AggregateSpec.Parse(rule.Aggregate); }
            catch (ExpressionException e) { Fail($"{p}.aggregate", $"rule \"{rule.Name}\": {e.Message}"); }
            if (Array.IndexOf(Ops, rule.Op) < 0) Fail($"{p}.op", $"rule \"{rule.Name}\": op \"{rule.Op}\" must be one of {string.Join(" ", Ops)}");
            CheckDuration($"{p}.window", rule.Window);
            if (rule.Kind is not ("threshold" or "absent")) Fail($"{p}.kind", $"rule \"{rule.Name}\": kind \"{rule.Kind}\" must be \"threshold\" or \"absent\"");
            if (rule.Every.Length > 0)
            {
                CheckDuration($"{p}.every", rule.Every);
                if (Duration.TryParse(rule.Every, out var every) && Duration.TryParse(rule.Window, out var window) && every > window)
                    Fail($"{p}.every", $"rule \"{rule.Name}\": every ({rule.Every}) must not be longer than window ({rule.Window})");
            }
            CheckDuration($"{p}.for", rule.For, positive: false);
            CheckDuration($"{p}.repeat_interval", rule.RepeatInterval, positive: false);
            if (Array.IndexOf(Severities, rule.Severity) < 0) Fail($"{p}.severity", $"rule \"{rule.Name}\": severity \"{rule.Severity}\" must be info, warning or critical");
            for (int g = 0; g < rule.GroupBy.Count; g++)
            {
                if (string.IsNullOrWhiteSpace(rule.GroupBy[g])) Fail($"{p}.group_by[{g}]", $"rule \"{rule.Name}\": empty group_by field");
            }
        }

        FilterFactory? filters = null;
        try
        {
            filters = new FilterFactory(c.PluginDir);
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or InvalidOperationException or System.Reflection.ReflectionTypeLoadException)
        {
            Fail("plugin_dir", $"'plugin_dir' = \"{c.PluginDir}\": cannot load plugins: {e.Message}");
        }
        if (filters is not null)
        {
            CheckFilters(filters, c.Processors.Filters, "processors.filters", errors, loaded);
            for (int i = 0; i < c.Logs.Inputs.Count; i++) CheckFilters(filters, c.Logs.Inputs[i].Filters, $"logs.inputs[{i}].filters", errors, loaded);
        }
        for (int i = 0; i < c.Processors.Filters.Count; i++)
        {
            if (!TopicCatalog.Sources.ContainsKey(c.Processors.Filters[i].Source))
                Fail($"processors.filters[{i}]", $"filter #{i + 1}: source \"{c.Processors.Filters[i].Source}\" must be one of {string.Join(", ", TopicCatalog.Sources.Keys)}");
        }

        if (c.Elasticsearch.Url.Length > 0 &&
            !(Uri.TryCreate(c.Elasticsearch.Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
            Fail("elasticsearch.url", $"'elasticsearch.url' = \"{c.Elasticsearch.Url}\" is not an http(s) URL");
        if (c.Elasticsearch.Namespace.Length == 0 || c.Elasticsearch.Namespace.Contains('-') || c.Elasticsearch.Namespace != c.Elasticsearch.Namespace.ToLowerInvariant())
            Fail("elasticsearch.namespace", $"'elasticsearch.namespace' = \"{c.Elasticsearch.Namespace}\" must be lower case without '-' (data stream naming)");

        if (c.Debug.Enabled)
        {
            if (!TryParseHostPort(c.Debug.Listen, out _, out _)) Fail("debug.listen", $"'debug.listen' = \"{c.Debug.Listen}\" is not host:port");
            else if (c.Debug.Listen == c.Metrics.Listen) Fail("debug.listen", "'debug.listen' must differ from 'metrics.listen': diagnostics never share the public metrics port");
            if (c.Debug.Token.Length < 16) Fail("debug.token", "'debug.token' must be set (at least 16 characters; use ${env:NAME}) when [debug] is enabled");
            if (c.Debug.RateLimit < 1) Fail("debug.rate_limit", "'debug.rate_limit' must be at least 1 per minute");
            for (int i = 0; i < c.Debug.Allow.Count; i++)
            {
                if (!System.Net.IPNetwork.TryParse(c.Debug.Allow[i], out _))
                    Fail($"debug.allow[{i}]", $"'debug.allow' entry \"{c.Debug.Allow[i]}\" is not a CIDR such as 10.0.0.0/8");
            }
        }
        CheckDuration("runtime_health.interval", c.RuntimeHealth.Interval);
        CheckDuration("alerts.resend_interval", c.Alerts.ResendInterval);
        CheckDuration("alerts.give_up_after", c.Alerts.GiveUpAfter);
        for (int i = 0; i < c.Alerts.Alertmanager.Count; i++)
        {
            if (!IsHttpUrl(c.Alerts.Alertmanager[i].Url))
                Fail($"alerts.alertmanager[{i}].url", $"[[alerts.alertmanager]] #{i + 1}: url \"{c.Alerts.Alertmanager[i].Url}\" is not an http(s) URL");
        }
        for (int i = 0; i < c.Alerts.Webhooks.Count; i++)
        {
            if (!IsHttpUrl(c.Alerts.Webhooks[i].Url))
                Fail($"alerts.webhooks[{i}].url", $"[[alerts.webhooks]] #{i + 1}: url \"{c.Alerts.Webhooks[i].Url}\" is not an http(s) URL");
            if (c.Alerts.Webhooks[i].Secret.Length == 0)
                Fail($"alerts.webhooks[{i}]", $"[[alerts.webhooks]] #{i + 1}: 'secret' is required, so receivers can verify the sender (use ${{env:NAME}})");
        }
        if (c.Elasticsearch.CaCertificate.Length > 0 && c.Elasticsearch.CaFingerprint.Length > 0)
            Fail("elasticsearch.ca_fingerprint", "set either 'elasticsearch.ca_certificate' or 'elasticsearch.ca_fingerprint', not both");
        if (c.Elasticsearch.CaCertificate.Length > 0 && !File.Exists(c.Elasticsearch.CaCertificate))
            Fail("elasticsearch.ca_certificate", $"'elasticsearch.ca_certificate' = \"{c.Elasticsearch.CaCertificate}\" is not a readable file (a PEM CA certificate, e.g. Elasticsearch's config/certs/http_ca.crt)");
        if (c.Elasticsearch.CaFingerprint.Length > 0 && !IsSha256Hex(c.Elasticsearch.CaFingerprint))
            Fail("elasticsearch.ca_fingerprint", "'elasticsearch.ca_fingerprint' must be a SHA-256 fingerprint: 64 hex digits, colons allowed");
        CheckDuration("elasticsearch.request_timeout", c.Elasticsearch.RequestTimeout);
        CheckDuration("elasticsearch.ilm_rollover_after", c.Elasticsearch.IlmRolloverAfter);
        CheckDuration("elasticsearch.ilm_delete_after", c.Elasticsearch.IlmDeleteAfter);

        if (c.Sinks.BatchSize is < 1 or > 100_000) Fail("sinks.batch_size", "'sinks.batch_size' must be 1-100000");
        if (c.Sinks.MaxBytes is < 1024 or > 100 * 1024 * 1024) Fail("sinks.max_bytes", "'sinks.max_bytes' must be 1024-104857600 (1 KiB-100 MiB; Elasticsearch refuses requests over http.max_content_length, 100 MB by default)");
        if (c.Sinks.InFlight is < 1 or > 64) Fail("sinks.in_flight", "'sinks.in_flight' must be 1-64");
        if (c.Sinks.NdjsonMaxFileBytes < 1024) Fail("sinks.ndjson_max_file_bytes", "'sinks.ndjson_max_file_bytes' must be at least 1024");
        CheckDuration("sinks.linger", c.Sinks.Linger);
        CheckDuration("sinks.give_up_after", c.Sinks.GiveUpAfter, positive: false);

        if (string.IsNullOrWhiteSpace(c.Exporter.GroupId)) Fail("exporter.group_id", "'exporter.group_id' must not be empty");
        CheckDuration("exporter.staleness", c.Exporter.Staleness);
        CheckDuration("exporter.counter_staleness", c.Exporter.CounterStaleness);
        if (c.Exporter.MaxSeriesPerMetric is < 1 or > 10_000_000) Fail("exporter.max_series_per_metric", "'exporter.max_series_per_metric' must be 1-10000000");
        if (c.Exporter.ProcessTopN is < 0 or > 1000) Fail("exporter.process_top_n", "'exporter.process_top_n' must be 0-1000");
        if (c.Exporter.ProcessFilter.Length > 0)
        {
            try { Expression.Parse(c.Exporter.ProcessFilter); }
            catch (ExpressionException e) { FailInString(errors, loaded, "exporter.process_filter", e, $"exporter.process_filter: {e.Message}"); }
        }
        var t = c.Telemetry;
        if (t.OtlpEndpoint.Length > 0 && !IsHttpUrl(t.OtlpEndpoint))
            Fail("telemetry.otlp_endpoint", $"'telemetry.otlp_endpoint' = \"{t.OtlpEndpoint}\" is not an http(s) URL such as http://otel-collector:4317");
        if (t.OtlpProtocol is not (TelemetryConfig.Grpc or TelemetryConfig.HttpProtobuf))
            Fail("telemetry.otlp_protocol", $"'telemetry.otlp_protocol' = \"{t.OtlpProtocol}\" must be \"grpc\" or \"http/protobuf\"");
        if (!(t.SampleRatio is >= 0 and <= 1)) // also catches NaN
            Fail("telemetry.sample_ratio", $"'telemetry.sample_ratio' = {t.SampleRatio.ToString(System.Globalization.CultureInfo.InvariantCulture)} must be between 0 and 1 (e.g. 0.01 keeps 1 trace in 100)");
        ProbeConfigValidator.Validate(loaded, errors);
        return errors;
    }

    private static void CheckMultiline(MultilineConfig m, string path, List<ConfigError> errors, LoadedConfig loaded)
    {
        void Fail(string key, string message) => errors.Add(new ConfigError(loaded.LocationOf($"{path}.{key}"), message));
        if (m.Pattern.Length > 0)
        {
            try { _ = new System.Text.RegularExpressions.Regex(m.Pattern, System.Text.RegularExpressions.RegexOptions.CultureInvariant); }
            catch (ArgumentException e) { Fail("pattern", $"multiline 'pattern' is not a valid regular expression: {e.Message}"); }
        }
        if (m.Match is not ("after" or "before")) Fail("match", $"multiline 'match' = \"{m.Match}\" must be \"after\" or \"before\"");
        if (m.MaxLines < 1) Fail("max_lines", "multiline 'max_lines' must be at least 1");
        if (!Duration.TryParse(m.Timeout, out var timeout)) Fail("timeout", $"multiline 'timeout' = \"{m.Timeout}\" is not a duration; write e.g. 500ms, 5s");
        else if (timeout <= TimeSpan.Zero) Fail("timeout", "multiline 'timeout' must be longer than 0");
    }

    private static void CheckFilters(FilterFactory factory, List<FilterConfig> chain, string path, List<ConfigError> errors, LoadedConfig loaded)
    {
        for (int i = 0; i < chain.Count; i++)
        {
            try
            {
                factory.CreateChain([chain[i]], "check");
            }
            catch (ArgumentException e)
            {
                errors.Add(new ConfigError(loaded.LocationOf($"{path}[{i}]"), $"[[{path}]] #{i + 1} ({chain[i].Type}): {e.InnerException?.Message ?? e.Message}"));
            }
            if (chain[i].OnError is not ("pass" or "deadletter"))
                errors.Add(new ConfigError(loaded.LocationOf($"{path}[{i}].on_error"), $"on_error \"{chain[i].OnError}\" must be \"pass\" or \"deadletter\""));
        }
    }

    private static void ValidateProcess(LoadedConfig loaded, List<ConfigError> errors, Action<string, string> fail, Action<string, string, bool> checkDuration)
    {
        var p = loaded.Config.Process;
        checkDuration("process.interval", p.Interval, true);
        checkDuration("process.scan_interval", p.ScanInterval, true);
        if (p.Sample is not (ProcessConfig.SampleAll or ProcessConfig.SampleTop))
            fail("process.sample", $"'process.sample' = \"{p.Sample}\" must be \"all\" or \"top\"");
        if (p.TopN < 1) fail("process.top_n", "'process.top_n' must be at least 1");
        if (p.TopBy is not ("cpu" or "memory")) fail("process.top_by", $"'process.top_by' = \"{p.TopBy}\" must be \"cpu\" or \"memory\"");
        try { Expression.Parse(p.Where); }
        catch (ExpressionException e) { FailInString(errors, loaded, "process.where", e, $"process.where: {e.Message}"); }
        if (p.CpuHighlight < 0) fail("process.cpu_highlight", "'process.cpu_highlight' must be 0 or more (percent of one core)");
        if (p.SpoolMaxBytes < 1024 * 1024) fail("process.spool_max_bytes", "'process.spool_max_bytes' must be at least 1048576 (1 MiB)");
        if (string.IsNullOrWhiteSpace(p.ProcRoot)) fail("process.proc_root", "'process.proc_root' must not be empty; the default is \"/proc\"");
        for (int i = 0; i < p.Labels.Count; i++)
        {
            var rule = p.Labels[i];
            var at = $"process.labels[{i}]";
            if (rule.Name.Length == 0 && rule.Cmdline.Length == 0 && rule.User.Length == 0 && rule.Cgroup.Length == 0)
                fail(at, $"[[process.labels]] #{i + 1} matches nothing; give at least one of name, cmdline, user, cgroup");
            if (rule.Set.Count == 0) fail(at, $"[[process.labels]] #{i + 1} has no 'set'; add e.g. set = {{ app = \"web\" }}");
            foreach (var key in rule.Set.Keys)
            {
                if (key.Length == 0 || key.Contains('.')) fail($"{at}.set", $"[[process.labels]] #{i + 1}: label key \"{key}\" must be non-empty and without '.'");
            }
            CheckRegex(rule.Cmdline, $"{at}.cmdline");
            CheckRegex(rule.Cgroup, $"{at}.cgroup");
        }

        void CheckRegex(string pattern, string path)
        {
            if (pattern.Length == 0) return;
            try { _ = new System.Text.RegularExpressions.Regex(pattern); }
            catch (ArgumentException e) { fail(path, $"'{path}' is not a valid regular expression: {e.Message}"); }
        }
    }

    // Point into the quoted string: the value's column, plus the opening quote, plus the offset in the expression.
    private static void FailInString(List<ConfigError> errors, LoadedConfig loaded, string path, ExpressionException e, string message)
    {
        var at = loaded.LocationOf(path);
        var location = at.Line > 0 ? at with { Column = at.Column + 1 + e.Position } : at;
        errors.Add(new ConfigError(location, message));
    }

    private static bool IsSha256Hex(string fingerprint)
    {
        int digits = 0;
        foreach (var ch in fingerprint)
        {
            if (char.IsAsciiHexDigit(ch)) digits++;
            else if (ch != ':') return false;
        }
        return digits == 64;
    }

    private static bool IsSimpleName(string name)
    {
        foreach (var ch in name)
        {
            if (!char.IsAsciiLetterOrDigit(ch) && ch is not ('-' or '_')) return false;
        }
        return true;
    }

    private static bool IsHttpUrl(string value)
        => Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    public static bool TryParseHostPort(string value, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1) return false;
        host = value[..colon].Trim('[', ']');
        return int.TryParse(value.AsSpan(colon + 1), out port) && port is > 0 and <= 65535 && host.Length > 0;
    }
}
