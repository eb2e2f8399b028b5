using System.Text;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>
/// Optional authentication, off until a test asks for it: API keys and basic-auth users, each with or without the
/// cluster privileges that template and ILM writes need. Answers 401 and 403 the way Elasticsearch security does.
/// </summary>
internal sealed class SecurityRealm
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (string User, bool CanManageTemplates)> _byHeader = new(StringComparer.Ordinal);

    public void AddApiKey(string encodedApiKey, bool canManageTemplates)
    {
        lock (_gate) { _byHeader["ApiKey " + encodedApiKey] = ("api_key", canManageTemplates); }
    }

    public void AddUser(string username, string password, bool canManageTemplates)
    {
        var header = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}"));
        lock (_gate) { _byHeader[header] = (username, canManageTemplates); }
    }

    public EsResponse? Check(string? authorization, string method, string path, string[] segments)
    {
        (string User, bool CanManageTemplates) principal;
        lock (_gate)
        {
            if (_byHeader.Count == 0) return null;
            if (authorization is null || !_byHeader.TryGetValue(authorization, out principal))
            {
                var reason = authorization is null
                    ? $"missing authentication credentials for REST request [{path}]"
                    : $"unable to authenticate with provided credentials and anonymous access is not allowed for this request";
                return EsResponse.Error(401, new EsError("security_exception", reason),
                    new Dictionary<string, string> { ["WWW-Authenticate"] = "Basic realm=\"security\", charset=\"UTF-8\", ApiKey" });
            }
        }
        if (principal.CanManageTemplates || method is "GET" or "HEAD") return null;
        var (action, privileges) = segments switch
        {
            ["_index_template", ..] => ("indices:admin/index_template/put", "manage_index_templates,manage,all"),
            ["_ilm", ..] => ("cluster:admin/ilm/put", "manage_ilm,manage,all"),
            _ => ((string?)null, ""),
        };
        if (action is null) return null;
        return EsResponse.Error(403, new EsError("security_exception",
            $"action [{action}] is unauthorized for user [{principal.User}] with effective roles [pipeline_writer], this action is granted by the cluster privileges [{privileges}]"));
    }
}
