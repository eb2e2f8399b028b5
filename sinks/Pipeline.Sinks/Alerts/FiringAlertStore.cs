using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;

namespace Pipeline.Sinks.Alerts;

/// <summary>
/// The alerts currently firing, by fingerprint, kept in <c>data_dir/alerts/firing.json</c> (written
/// atomically) so that after a restart they are still re-sent to Alertmanager until they resolve.
/// </summary>
public sealed class FiringAlertStore
{
    private readonly string _path;
    private readonly Dictionary<string, byte[]> _firing = new(StringComparer.Ordinal);

    public FiringAlertStore(string path)
    {
        _path = path;
        if (!File.Exists(path)) return;
        try
        {
            var saved = JsonSerializer.Deserialize(File.ReadAllBytes(path), FiringJsonContext.Default.DictionaryStringString) ?? [];
            foreach (var (fingerprint, base64) in saved) _firing[fingerprint] = Convert.FromBase64String(base64);
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            // A damaged file only costs re-sends; keep a copy for inspection and start empty.
            File.Move(path, path + ".corrupt", overwrite: true);
        }
    }

    public int Count => _firing.Count;

    /// <summary>Records a state change: firing alerts are kept, resolved ones dropped.</summary>
    public void Apply(ForwardedAlert alert)
    {
        if (alert.Alert.Alert.Status == AlertStatus.Firing) _firing[alert.Alert.Alert.Fingerprint] = alert.Raw;
        else _firing.Remove(alert.Alert.Alert.Fingerprint);
    }

    public List<ForwardedAlert> Firing()
    {
        var list = new List<ForwardedAlert>(_firing.Count);
        foreach (var raw in _firing.Values)
            list.Add(new ForwardedAlert(EventSerializer.Deserialize(raw, EventJsonContext.Default.AlertEvent), raw, "", -1, -1));
        return list;
    }

    public void Save()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        var copy = new Dictionary<string, string>(_firing.Count, StringComparer.Ordinal);
        foreach (var (k, v) in _firing) copy[k] = Convert.ToBase64String(v);
        var tmp = _path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, copy, FiringJsonContext.Default.DictionaryStringString);
            stream.Flush(flushToDisk: true);
        }
        File.Move(tmp, _path, overwrite: true);
    }
}

[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class FiringJsonContext : JsonSerializerContext;
