using System.Text.Json;

namespace Pipeline.Testing.Elasticsearch;

/// <summary>One index or data stream the test server holds: its documents in write order and its mapping. Guarded by the cluster state's lock.</summary>
internal sealed class TargetIndex
{
    private readonly List<StoredDocument> _documents = [];
    private readonly Dictionary<string, int> _positions = new(StringComparer.Ordinal);
    private long _seqNo = -1;

    public TargetIndex(string name, bool isDataStream, string? templateName, FieldMappings mappings, DateTimeOffset createdAt)
    {
        Name = name;
        IsDataStream = isDataStream;
        TemplateName = templateName;
        Mappings = mappings;
        Uuid = Guid.NewGuid().ToString("N")[..22];
        ConcreteIndex = isDataStream ? $".ds-{name}-{createdAt:yyyy.MM.dd}-000001" : name;
    }

    /// <summary>The name writes address: the data stream or index name.</summary>
    public string Name { get; }

    public bool IsDataStream { get; }

    public string? TemplateName { get; }

    public FieldMappings Mappings { get; }

    public string Uuid { get; }

    /// <summary>Where documents live: the backing index of a data stream, else the index itself.</summary>
    public string ConcreteIndex { get; }

    public IReadOnlyList<StoredDocument> Documents => _documents;

    public StoredDocument? Find(string id) => _positions.TryGetValue(id, out var i) ? _documents[i] : null;

    public (StoredDocument Document, long SeqNo) Put(string id, JsonElement source, ReadOnlyMemory<byte> raw)
    {
        var seqNo = ++_seqNo;
        if (_positions.TryGetValue(id, out var i))
        {
            var updated = new StoredDocument(Name, ConcreteIndex, id, _documents[i].Version + 1, source, raw);
            _documents[i] = updated;
            return (updated, seqNo);
        }
        var created = new StoredDocument(Name, ConcreteIndex, id, 1, source, raw);
        _positions[id] = _documents.Count;
        _documents.Add(created);
        return (created, seqNo);
    }

    public (bool Found, long SeqNo, long Version) Delete(string id)
    {
        if (!_positions.TryGetValue(id, out var i)) return (false, _seqNo, 1);
        var version = _documents[i].Version + 1;
        _documents.RemoveAt(i);
        _positions.Clear();
        for (var n = 0; n < _documents.Count; n++) _positions[_documents[n].Id] = n;
        return (true, ++_seqNo, version);
    }

    public bool Matches(string expression) =>
        JsonPaths.WildcardMatch(expression, Name) || (IsDataStream && JsonPaths.WildcardMatch(expression, ConcreteIndex));
}
