using System.Globalization;
using System.Text.Json.Nodes;
using Json.Schema;
using Pipeline.Testing;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Pipeline.Tests.Kubernetes;

/// <summary>deploy/k8s/*.yaml as JSON documents, the CRD's schema as a JSON Schema, and an RBAC check over the Roles.</summary>
internal static class KubernetesManifests
{
    public static string Directory => Path.Combine(RepositoryRoot.Path, "deploy", "k8s");

    /// <summary>Every document of every manifest file, in file order.</summary>
    public static List<JsonObject> All() =>
    [
        .. System.IO.Directory.GetFiles(Directory, "*.yaml").Order(StringComparer.Ordinal).SelectMany(Documents),
    ];

    public static IEnumerable<JsonObject> Documents(string file)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(file)));
        foreach (var doc in stream.Documents)
        {
            if (ToJson(doc.RootNode) is JsonObject o) yield return o;
        }
    }

    public static JsonObject Single(string kind, string? name = null)
        => All().Single(d => d["kind"]?.GetValue<string>() == kind && (name is null || d["metadata"]?["name"]?.GetValue<string>() == name));

    /// <summary>The NodeProbe CRD's openAPIV3Schema as a JSON Schema, parsed once.</summary>
    public static JsonSchema NodeProbeSchema() => Schemas.SchemaConformanceTests.Schema("crd:nodeprobes.ops.pipeline.dev", () =>
    {
        var crd = Single("CustomResourceDefinition");
        // No $id: JsonSchema.Net 8 refuses this schema with one ("Overwriting registered schemas"), and needs none.
        return crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!.ToJsonString();
    });

    /// <summary>The API server's answer to a NodeProbe: null when the CRD schema accepts it, else why not.</summary>
    public static string? SchemaProblems(JsonSchema schema, JsonObject nodeProbe)
    {
        var result = schema.Evaluate(System.Text.Json.JsonDocument.Parse(nodeProbe.ToJsonString()).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid) return null;
        return string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));
    }

    /// <summary>
    /// Whether the ServiceAccount's Roles and ClusterRoles (through their bindings) allow a call: the RBAC
    /// rules as Kubernetes evaluates them for our cases (apiGroups, resources with subresources, verbs, resourceNames).
    /// </summary>
    public static bool Allows(string serviceAccount, string verb, string group, string resource, string? subresource, string? ns, string? name)
    {
        var docs = All();
        var full = subresource is null ? resource : $"{resource}/{subresource}";
        foreach (var binding in docs.Where(d => d["kind"]?.GetValue<string>() is "RoleBinding" or "ClusterRoleBinding"))
        {
            bool forUs = binding["subjects"]!.AsArray().Any(s => s!["kind"]!.GetValue<string>() == "ServiceAccount" && s["name"]!.GetValue<string>() == serviceAccount);
            if (!forUs) continue;
            var bindingNs = binding["metadata"]!["namespace"]?.GetValue<string>();
            if (binding["kind"]!.GetValue<string>() == "RoleBinding" && bindingNs != ns) continue;
            var roleKind = binding["roleRef"]!["kind"]!.GetValue<string>();
            var roleName = binding["roleRef"]!["name"]!.GetValue<string>();
            var role = docs.FirstOrDefault(d => d["kind"]?.GetValue<string>() == roleKind && d["metadata"]!["name"]!.GetValue<string>() == roleName
                && (roleKind == "ClusterRole" || d["metadata"]!["namespace"]?.GetValue<string>() == bindingNs));
            if (role is null) continue;
            foreach (var rule in role["rules"]!.AsArray())
            {
                static IEnumerable<string> Strings(JsonNode? n) => n?.AsArray().Select(x => x!.GetValue<string>()) ?? [];
                if (!Strings(rule!["apiGroups"]).Contains(group)) continue;
                if (!Strings(rule["resources"]).Contains(full)) continue;
                if (!Strings(rule["verbs"]).Contains(verb)) continue;
                var names = Strings(rule["resourceNames"]).ToList();
                if (names.Count > 0 && (name is null || !names.Contains(name))) continue;
                return true;
            }
        }
        return false;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(ToJson)]),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    // Plain scalars are typed the YAML 1.2 core-schema way; quoted ones are always strings.
    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded) return JsonValue.Create(text);
        if (text is "true" or "false") return JsonValue.Create(text == "true");
        if (text is "null" or "~" or "") return null;
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
        return JsonValue.Create(text);
    }
}
