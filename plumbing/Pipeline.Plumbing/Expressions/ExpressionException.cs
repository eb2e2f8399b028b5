namespace Pipeline.Plumbing.Expressions;

/// <summary>An expression that does not parse. <see cref="Position"/> is the 0-based character index of the problem.</summary>
public sealed class ExpressionException(string message, int position) : Exception(message)
{
    public int Position { get; } = position;
}
