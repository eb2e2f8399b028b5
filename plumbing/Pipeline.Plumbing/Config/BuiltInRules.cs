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
            Name = "process-cpu",
            Source = "process",
            Where = "event.kind == \"metric\"",
            GroupBy = ["host.name", "process.pid", "process.name"],
            Aggregate = "avg(process.cpu.pct)",
            Op = ">",
            Threshold = 50,
            Window = "10s",
            For = "30s",
            Severity = "warning",
            Summary = "{{process.name}} (pid {{process.pid}}) on {{host.name}} has used more than {{threshold}}% CPU for 30s (now {{value}}%)",
        },
        new RuleConfig
        {
            Name = "oom-kill",
            Source = "process",
            Where = "event.action == \"oom_kill\"",
            GroupBy = ["host.name", "process.pid", "process.name"],
            Aggregate = "count()",
            Op = ">=",
            Threshold = 1,
            Window = "1m",
            Severity = "critical",
            Summary = "the kernel OOM-killed {{process.name}} (pid {{process.pid}}) on {{host.name}}",
        },
        new RuleConfig
        {
            Name = "probe-problem",
            Source = "probes",
            Where = "probe.status == \"problem\"",
            GroupBy = ["host.name", "probe.name"],
            Aggregate = "count()",
            Op = ">=",
            Threshold = 3,
            Window = "5m",
            Severity = "warning",
            Summary = "probe {{probe.name}} failed {{value}} times in {{window}} on {{host.name}}",
        },
        new RuleConfig
        {
            Name = "node-condition",
            Source = "probes",
            Where = "probe.condition != null and probe.status == \"problem\"",
            GroupBy = ["host.name", "probe.condition"],
            Aggregate = "count()",
            Op = ">=",
            Threshold = 1,
            Window = "1m",
            Severity = "critical",
            Summary = "node condition {{probe.condition}} is true on {{host.name}}",
        },
        new RuleConfig
        {
            Name = "host-memory",
            Source = "probes",
            Where = "probe.type == \"memory\"",
            GroupBy = ["host.name"],
            Aggregate = "avg(probe.value)",
            Op = "<",
            Threshold = 10,
            Window = "1m",
            Severity = "critical",
            Summary = "available memory on {{host.name}} averaged {{value}}% over {{window}} (below {{threshold}}%)",
        },
        new RuleConfig
        {
            Name = "error-logs",
            Source = "logs",
            Where = "log.level == \"error\" or log.level == \"fatal\"",
            // The file stands in for the service: one host's app.log and db.log are counted apart.
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
