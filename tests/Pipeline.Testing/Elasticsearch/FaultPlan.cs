namespace Pipeline.Testing.Elasticsearch;

/// <summary>The faults a test asked for, consumed one by one as requests and items arrive. Thread-safe.</summary>
internal sealed class FaultPlan
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _invalidFields = new(StringComparer.Ordinal);
    private int _rejectItems;
    private int _rejectItemStatus = 429;
    private int _failRequests;
    private int _failRequestStatus = 503;
    private int _dropConnections;
    private long _delayTicks;

    public TimeSpan ResponseDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
        set => Interlocked.Exchange(ref _delayTicks, value.Ticks);
    }

    public void RejectItems(int count, int status)
    {
        lock (_gate) { _rejectItems = count; _rejectItemStatus = status; }
    }

    public void FailRequests(int count, int status)
    {
        lock (_gate) { _failRequests = count; _failRequestStatus = status; }
    }

    public void DropConnections(int count)
    {
        lock (_gate) { _dropConnections = count; }
    }

    public void MapFieldAsInvalid(string fieldPath, string errorType)
    {
        lock (_gate) { _invalidFields[fieldPath] = errorType; }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _rejectItems = 0;
            _failRequests = 0;
            _dropConnections = 0;
            _invalidFields.Clear();
        }
        ResponseDelay = TimeSpan.Zero;
    }

    public bool TakeItemRejection(out int status)
    {
        lock (_gate)
        {
            status = _rejectItemStatus;
            if (_rejectItems <= 0) return false;
            _rejectItems--;
            return true;
        }
    }

    public bool TakeRequestFailure(out int status)
    {
        lock (_gate)
        {
            status = _failRequestStatus;
            if (_failRequests <= 0) return false;
            _failRequests--;
            return true;
        }
    }

    public bool TakeDrop()
    {
        lock (_gate)
        {
            if (_dropConnections <= 0) return false;
            _dropConnections--;
            return true;
        }
    }

    public KeyValuePair<string, string>[] InvalidFields()
    {
        lock (_gate) { return [.. _invalidFields]; }
    }
}
