using System.Text.Json;
using System.Text.RegularExpressions;

namespace Pipeline.Plumbing.Expressions;

// The compiled form of an expression: a small tree evaluated directly, allocation-free per event.

internal abstract class Node
{
    public abstract FieldValue Evaluate<TSource>(in TSource source) where TSource : IFieldSource;

    public bool Test<TSource>(in TSource source) where TSource : IFieldSource
    {
        var v = Evaluate(source);
        return v.Kind == FieldKind.Bool ? v.Number != 0 : v.IsPresent;
    }
}

internal sealed class LiteralNode(FieldValue value) : Node
{
    public FieldValue Value { get; } = value;
    public override FieldValue Evaluate<TSource>(in TSource source) => Value;
}

internal sealed class FieldNode(FieldPath path) : Node
{
    public FieldPath Path { get; } = path;
    public override FieldValue Evaluate<TSource>(in TSource source) => source.Get(Path);
}

internal sealed class NotNode(Node inner) : Node
{
    public override FieldValue Evaluate<TSource>(in TSource source) => FieldValue.Of(!inner.Test(source));
}

internal sealed class AndNode(Node left, Node right) : Node
{
    public override FieldValue Evaluate<TSource>(in TSource source) => FieldValue.Of(left.Test(source) && right.Test(source));
}

internal sealed class OrNode(Node left, Node right) : Node
{
    public override FieldValue Evaluate<TSource>(in TSource source) => FieldValue.Of(left.Test(source) || right.Test(source));
}

internal enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge, Contains, StartsWith, EndsWith }

internal sealed class CompareNode(Node left, CompareOp op, Node right) : Node
{
    public override FieldValue Evaluate<TSource>(in TSource source)
    {
        var l = left.Evaluate(source);
        var r = right.Evaluate(source);
        return FieldValue.Of(Compare(l, op, r));
    }

    internal static bool Compare(in FieldValue l, CompareOp op, in FieldValue r)
    {
        // A missing field matches nothing, except "!= x" (it is indeed not x) and "== null".
        if (l.Kind == FieldKind.Missing || r.Kind == FieldKind.Missing)
        {
            bool bothAbsent = !l.IsPresent && !r.IsPresent;
            return op switch { CompareOp.Eq => bothAbsent, CompareOp.Ne => !bothAbsent, _ => false };
        }
        if (l.Kind == FieldKind.Null || r.Kind == FieldKind.Null)
        {
            return op switch { CompareOp.Eq => l.Kind == r.Kind, CompareOp.Ne => l.Kind != r.Kind, _ => false };
        }
        switch (op)
        {
            case CompareOp.Contains:
                if (l.Kind == FieldKind.Array) return ArrayContains(l.Json, r);
                return l.ToString().Contains(r.ToString(), StringComparison.Ordinal);
            case CompareOp.StartsWith:
                return l.ToString().StartsWith(r.ToString(), StringComparison.Ordinal);
            case CompareOp.EndsWith:
                return l.ToString().EndsWith(r.ToString(), StringComparison.Ordinal);
        }
        int cmp;
        if ((l.Kind == FieldKind.Number || r.Kind == FieldKind.Number) && l.TryGetNumber(out var ln) && r.TryGetNumber(out var rn))
        {
            cmp = ln.CompareTo(rn);
        }
        else
        {
            cmp = string.CompareOrdinal(l.ToString(), r.ToString());
        }
        return op switch
        {
            CompareOp.Eq => cmp == 0,
            CompareOp.Ne => cmp != 0,
            CompareOp.Lt => cmp < 0,
            CompareOp.Le => cmp <= 0,
            CompareOp.Gt => cmp > 0,
            CompareOp.Ge => cmp >= 0,
            _ => false,
        };
    }

    private static bool ArrayContains(JsonElement array, in FieldValue needle)
    {
        foreach (var item in array.EnumerateArray())
        {
            if (Compare(FieldValue.Of(item), CompareOp.Eq, needle)) return true;
        }
        return false;
    }
}

internal sealed class InNode(Node left, FieldValue[] set) : Node
{
    public override FieldValue Evaluate<TSource>(in TSource source)
    {
        var l = left.Evaluate(source);
        foreach (var candidate in set)
        {
            if (CompareNode.Compare(l, CompareOp.Eq, candidate)) return FieldValue.True;
        }
        return FieldValue.False;
    }
}

/// <summary><c>matches</c> and <c>=~</c>; <c>!~</c> when <paramref name="negate"/>. A missing field matches neither.</summary>
internal sealed class MatchesNode(Node left, Regex regex, bool negate) : Node
{
    public override FieldValue Evaluate<TSource>(in TSource source)
    {
        var l = left.Evaluate(source);
        if (!l.IsPresent) return FieldValue.False;
        try
        {
            return FieldValue.Of(regex.IsMatch(l.ToString()) != negate);
        }
        catch (RegexMatchTimeoutException)
        {
            // A pathological pattern must not stall the pipeline; treat it as no match.
            return FieldValue.False;
        }
    }
}
