namespace Pipeline.Plumbing.Expressions;

/// <summary>
/// A compiled filter in the pipeline's expression language, shared by rules' <c>where</c>, edge and
/// processor filters, probes and <c>pipeline ps --filter</c>:
/// <code>log.level == "error" and not (message contains "healthcheck")
/// process.cpu.pct &gt; 50 or process.name in ["java", "node"]
/// ppid == 1234 and name =~ "^kworker" and rss &gt; 500MiB</code>
/// Operators: <c>== != &lt; &lt;= &gt; &gt;=</c>, <c>contains</c>, <c>startswith</c>, <c>endswith</c>,
/// <c>matches</c> or <c>=~</c> (regex), <c>!~</c> (regex does not match), <c>in [..]</c>,
/// <c>and</c>/<c>&amp;&amp;</c>, <c>or</c>/<c>||</c>, <c>not</c>/<c>!</c>. Numbers may carry a size unit:
/// <c>rss &gt; 500MiB</c> (KiB, MiB, GiB, TiB are powers of 1024; kB, MB, GB, TB, k, M, G powers of 1000).
/// A bare field is true when present and not false.
/// </summary>
public sealed class Expression
{
    private readonly Node _root;

    private Expression(string text, Node root, IReadOnlyList<FieldPath> fields)
    {
        Text = text;
        _root = root;
        Fields = fields;
    }

    public string Text { get; }

    /// <summary>Every field path the expression reads.</summary>
    public IReadOnlyList<FieldPath> Fields { get; }

    public static readonly Expression Always = Parse("true");

    /// <summary>Compiles <paramref name="text"/>; throws <see cref="ExpressionException"/> with the position of the problem.</summary>
    public static Expression Parse(string text)
    {
        var parser = new ExpressionParser(text);
        var root = parser.ParseAll();
        return new Expression(text, root, parser.Fields);
    }

    public bool Matches<TSource>(in TSource source) where TSource : IFieldSource => _root.Test(source);

    public override string ToString() => Text;
}
