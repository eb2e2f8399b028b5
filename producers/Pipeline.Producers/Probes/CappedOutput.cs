using System.Buffers;
using System.Text;

namespace Pipeline.Producers.Probes;

/// <summary>
/// Reads a child's output stream to its end but keeps only the first bytes: a check that prints 100 MB
/// must neither fill memory nor block on a full pipe (a child blocked writing would never exit).
/// </summary>
internal sealed class CappedOutput(int limit)
{
    private readonly byte[] _kept = new byte[limit];
    private int _length;

    public long TotalBytes { get; private set; }
    public bool Truncated => TotalBytes > _length;

    public async Task DrainAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                int n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0) return;
                int keep = Math.Min(n, _kept.Length - _length);
                if (keep > 0)
                {
                    buffer.AsSpan(0, keep).CopyTo(_kept.AsSpan(_length));
                    _length += keep;
                }
                TotalBytes += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public string Text()
    {
        var text = Encoding.UTF8.GetString(_kept, 0, _length).Trim();
        return Truncated ? $"{text}... ({TotalBytes} bytes of output, first {_length} kept)" : text;
    }
}
