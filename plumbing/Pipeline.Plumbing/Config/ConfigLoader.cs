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
        }

        CheckDuration("processors.evaluation_interval", c.Processors.EvaluationInterval);
        CheckDuration("processors.grace", c.Processors.Grace, positive: false);
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

        if (c.Sinks.BatchSize is < 1 or > 100_000) Fail("sinks.batch_size", "'sinks.batch_size' must be 1-100000");
        CheckDuration("sinks.linger", c.Sinks.Linger);
        CheckDuration("sinks.give_up_after", c.Sinks.GiveUpAfter, positive: false);
        ProbeConfigValidator.Validate(loaded, errors);
        return errors;
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

    // Point into the quoted string: the value's column, plus the opening quote, plus the offset in the expression.
    private static void FailInString(List<ConfigError> errors, LoadedConfig loaded, string path, ExpressionException e, string message)
    {
        var at = loaded.LocationOf(path);
        var location = at.Line > 0 ? at with { Column = at.Column + 1 + e.Position } : at;
        errors.Add(new ConfigError(location, message));
    }

    private static bool IsSimpleName(string name)
    {
        foreach (var ch in name)
        {
            if (!char.IsAsciiLetterOrDigit(ch) && ch is not ('-' or '_')) return false;
        }
        return true;
    }

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
