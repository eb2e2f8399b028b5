using System.Text.RegularExpressions;
using Pipeline.Plumbing.Config;

namespace Pipeline.Producers.Process;

/// <summary>
/// The compiled <c>[[process.labels]]</c> rules, plus the labels every process gets from its cgroup
/// (<c>cgroup_path</c>, <c>systemd_unit</c>). Applied when a process's identity is (re)read, not on
/// every sample, so the regexes cost nothing on the hot path.
/// </summary>
public sealed class LabelRules
{
    public const string CgroupPathLabel = "cgroup_path";
    public const string SystemdUnitLabel = "systemd_unit";

    private readonly Rule[] _rules;

    public LabelRules(IReadOnlyList<ProcessLabelRule> rules)
    {
        _rules = new Rule[rules.Count];
        for (int i = 0; i < rules.Count; i++)
        {
            var r = rules[i];
            _rules[i] = new Rule(
                r.Name.Length > 0 ? r.Name : null,
                r.Cmdline.Length > 0 ? new Regex(r.Cmdline, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50)) : null,
                r.User.Length > 0 ? r.User : null,
                r.Cgroup.Length > 0 ? new Regex(r.Cgroup, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50)) : null,
                new Dictionary<string, string>(r.Set, StringComparer.Ordinal));
        }
    }

    public static readonly LabelRules None = new([]);

    public IReadOnlyDictionary<string, string> LabelsFor(ProcessRecord process)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (process.Cgroup.Path != "/") labels[CgroupPathLabel] = process.Cgroup.Path;
        if (process.Cgroup.SystemdUnit is { } unit) labels[SystemdUnitLabel] = unit;
        foreach (var rule in _rules)
        {
            if (!rule.Matches(process)) continue;
            foreach (var (key, value) in rule.Set) labels[key] = value;
        }
        return labels.Count == 0 ? ProcessRecord.Empty : labels;
    }

    private sealed record Rule(string? Name, Regex? Cmdline, string? User, Regex? Cgroup, Dictionary<string, string> Set)
    {
        public bool Matches(ProcessRecord p)
        {
            if (Name is not null && p.Name != Name) return false;
            if (User is not null && p.User != User && p.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture) != User) return false;
            if (Cmdline is not null && !SafeMatch(Cmdline, p.CommandLine ?? "")) return false;
            if (Cgroup is not null && !SafeMatch(Cgroup, p.Cgroup.Path)) return false;
            return true;
        }

        private static bool SafeMatch(Regex regex, string text)
        {
            try { return regex.IsMatch(text); }
            catch (RegexMatchTimeoutException) { return false; }
        }
    }
}
