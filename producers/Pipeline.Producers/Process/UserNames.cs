using System.Globalization;

namespace Pipeline.Producers.Process;

/// <summary>
/// uid to user name, from <c>/etc/passwd</c> (re-read when it changes). Users known only to NSS
/// services such as LDAP are shown by number, as <c>ps</c> does for uids it cannot resolve.
/// </summary>
public sealed class UserNames(string passwdPath = "/etc/passwd")
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(30);
    private readonly Dictionary<int, string> _names = [];
    private DateTime _loadedWrite = DateTime.MinValue;
    private DateTime _lastCheck = DateTime.MinValue;

    public string NameOf(int uid)
    {
        Refresh();
        if (_names.TryGetValue(uid, out var name)) return name;
        name = uid.ToString(CultureInfo.InvariantCulture);
        _names[uid] = name;
        return name;
    }

    /// <summary>The uid of a user name or a numeric uid, or -1.</summary>
    public int UidOf(string user)
    {
        if (int.TryParse(user, NumberStyles.None, CultureInfo.InvariantCulture, out int uid)) return uid;
        Refresh();
        foreach (var (id, name) in _names)
        {
            if (name == user) return id;
        }
        return -1;
    }

    private void Refresh()
    {
        var now = DateTime.UtcNow;
        if (now - _lastCheck < CheckEvery) return;
        _lastCheck = now;
        DateTime write;
        try
        {
            write = File.GetLastWriteTimeUtc(passwdPath);
            if (write == _loadedWrite) return;
        }
        catch (IOException)
        {
            return;
        }
        _names.Clear();
        _loadedWrite = write;
        try
        {
            foreach (var line in File.ReadLines(passwdPath))
            {
                // name:password:uid:gid:gecos:home:shell
                var parts = line.Split(':');
                if (parts.Length >= 3 && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int id)) _names.TryAdd(id, parts[0]);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
