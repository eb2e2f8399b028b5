namespace Pipeline.Plumbing.Config;

/// <summary>
/// Rules every installation gets unless <c>processors.default_rules = false</c>; a user rule with the
/// same name replaces one, and <c>enabled = false</c> on that name turns it off.
/// </summary>
public static class BuiltInRules
{
    public static IReadOnlyList<RuleConfig> All =>
    [
        new RuleConfig
        {
            Name = "error-logs",
            Source = "logs",
            Where = "log.level == \"error\" or log.level == \"fatal\"",
            GroupBy = ["host.name", "log.file.path"],
            Aggregate = "count()",
            Op = ">=",
            Threshold = 100,
            Window = "1m",
            Severity = "warning",
            Summary = "{{value}} error lines in {{window}} in {{log.file.path}} on {{host.name}} (threshold {{threshold}})",
        },
    ];

    /// <summary>The rules in force: built-ins (unless turned off) merged with the user's, user wins by name.</summary>
    public static List<RuleConfig> Effective(PipelineConfig config)
    {
        var result = new List<RuleConfig>();
        if (config.Processors.DefaultRules)
        {
            foreach (var builtIn in All)
            {
                if (config.Rules.Exists(r => r.Name == builtIn.Name)) continue;
                result.Add(builtIn);
            }
        }
        foreach (var rule in config.Rules)
        {
            if (rule.Enabled) result.Add(rule);
        }
        return result;
    }
}
