using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Pipeline.Plumbing.Expressions;

// Hand-written recursive descent: no library gives a small, side-effect-free filter language with
// exact error positions. Scripting engines (Roslyn, DynamicExpresso) would let a config file run code.
internal sealed class ExpressionParser(string text)
{
    private int _pos;
    private readonly List<FieldPath> _fields = [];

    public IReadOnlyList<FieldPath> Fields => _fields;

    public Node ParseAll()
    {
        SkipSpace();
        if (_pos >= text.Length) throw new ExpressionException("empty expression; write e.g. log.level == \"error\" or true", 0);
        var node = ParseOr();
        SkipSpace();
        if (_pos < text.Length) throw Error($"unexpected '{Rest()}'");
        return node;
    }

    private Node ParseOr()
    {
        var left = ParseAnd();
        while (TryKeyword("or") || TrySymbol("||")) left = new OrNode(left, ParseAnd());
        return left;
    }

    private Node ParseAnd()
    {
        var left = ParseNot();
        while (TryKeyword("and") || TrySymbol("&&")) left = new AndNode(left, ParseNot());
        return left;
    }

    private Node ParseNot()
    {
        if (TryKeyword("not")) return new NotNode(ParseNot());
        SkipSpace();
        if (_pos < text.Length && text[_pos] == '!' && !(Peek(1) == '=')) { _pos++; return new NotNode(ParseNot()); }
        return ParseComparison();
    }

    private Node ParseComparison()
    {
        var left = ParsePrimary();
        SkipSpace();
        int opStart = _pos;
        if (TrySymbol("==")) return new CompareNode(left, CompareOp.Eq, ParsePrimary());
        if (TrySymbol("!=")) return new CompareNode(left, CompareOp.Ne, ParsePrimary());
        if (TrySymbol("<=")) return new CompareNode(left, CompareOp.Le, ParsePrimary());
        if (TrySymbol(">=")) return new CompareNode(left, CompareOp.Ge, ParsePrimary());
        if (TrySymbol("<")) return new CompareNode(left, CompareOp.Lt, ParsePrimary());
        if (TrySymbol(">")) return new CompareNode(left, CompareOp.Gt, ParsePrimary());
        if (TrySymbol("=~")) return ParseRegex(left, negate: false, "'=~'");
        if (TrySymbol("!~")) return ParseRegex(left, negate: true, "'!~'");
        if (TrySymbol("=")) throw new ExpressionException("'=' is not a comparison; use '=='", opStart);
        if (TryKeyword("contains")) return new CompareNode(left, CompareOp.Contains, ParsePrimary());
        if (TryKeyword("startswith")) return new CompareNode(left, CompareOp.StartsWith, ParsePrimary());
        if (TryKeyword("endswith")) return new CompareNode(left, CompareOp.EndsWith, ParsePrimary());
        if (TryKeyword("matches")) return ParseRegex(left, negate: false, "'matches'");
        if (TryKeyword("in")) return new InNode(left, ParseList());
        return left;
    }

    // `matches`, `=~` and `!~` all take a quoted pattern, compiled once here with a match timeout.
    private MatchesNode ParseRegex(Node left, bool negate, string op)
    {
        SkipSpace();
        int patternAt = _pos;
        if (ParsePrimary() is not LiteralNode { Value.Kind: FieldKind.String } literal)
            throw new ExpressionException($"{op} needs a quoted regular expression, e.g. name {(negate ? "!~" : "=~")} \"^nginx\"", patternAt);
        try
        {
            var regex = new Regex(literal.Value.Text!, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
            return new MatchesNode(left, regex, negate);
        }
        catch (ArgumentException e)
        {
            throw new ExpressionException($"invalid regular expression: {e.Message}", patternAt);
        }
    }

    private FieldValue[] ParseList()
    {
        SkipSpace();
        if (!TrySymbol("[")) throw Error("'in' needs a list, e.g. [\"a\", \"b\"]");
        var items = new List<FieldValue>();
        SkipSpace();
        if (TrySymbol("]")) return [];
        while (true)
        {
            SkipSpace();
            int at = _pos;
            if (ParsePrimary() is not LiteralNode literal) throw new ExpressionException("list items must be literals", at);
            items.Add(literal.Value);
            if (TrySymbol(",")) continue;
            if (TrySymbol("]")) return [.. items];
            throw Error("expected ',' or ']'");
        }
    }

    private Node ParsePrimary()
    {
        SkipSpace();
        if (_pos >= text.Length) throw Error("expression ends too early");
        char c = text[_pos];
        if (c == '(')
        {
            _pos++;
            var inner = ParseOr();
            if (!TrySymbol(")")) throw Error("missing ')'");
            return inner;
        }
        if (c is '"' or '\'') return new LiteralNode(FieldValue.Of(ParseString(c)));
        if (char.IsAsciiDigit(c) || (c == '-' && char.IsAsciiDigit(Peek(1))))
        {
            int start = _pos++;
            while (_pos < text.Length && (char.IsAsciiDigit(text[_pos]) || text[_pos] is '.' or 'e' or 'E'
                || (text[_pos] is '+' or '-' && text[_pos - 1] is 'e' or 'E'))) _pos++;
            if (!double.TryParse(text.AsSpan(start, _pos - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                throw new ExpressionException($"'{text[start.._pos]}' is not a number", start);
            return new LiteralNode(FieldValue.Of(number * ParseSizeUnit()));
        }
        if (IsIdentStart(c))
        {
            int start = _pos;
            while (_pos < text.Length && IsIdentPart(text[_pos])) _pos++;
            var word = text[start.._pos];
            switch (word)
            {
                case "true": return new LiteralNode(FieldValue.True);
                case "false": return new LiteralNode(FieldValue.False);
                case "null": return new LiteralNode(FieldValue.Null);
                case "and" or "or" or "not" or "in" or "contains" or "matches" or "startswith" or "endswith":
                    throw new ExpressionException($"expected a field or value, found keyword '{word}'", start);
            }
            if (word.EndsWith('.')) throw new ExpressionException($"field path '{word}' ends with '.'", start);
            var path = new FieldPath(word);
            _fields.Add(path);
            return new FieldNode(path);
        }
        throw Error($"unexpected '{c}'");
    }

    // A size unit glued to a number (`rss > 500MiB`). Binary units are powers of 1024; decimal ones
    // (kB, MB, GB, TB and the bare k, M, G, T, handy for counts) are powers of 1000.
    private double ParseSizeUnit()
    {
        int start = _pos;
        while (_pos < text.Length && char.IsAsciiLetter(text[_pos])) _pos++;
        if (_pos == start) return 1;
        return text[start.._pos] switch
        {
            "B" => 1,
            "KiB" => 1024d,
            "MiB" => 1024d * 1024,
            "GiB" => 1024d * 1024 * 1024,
            "TiB" => 1024d * 1024 * 1024 * 1024,
            "kB" or "KB" or "k" or "K" => 1e3,
            "MB" or "M" => 1e6,
            "GB" or "G" => 1e9,
            "TB" or "T" => 1e12,
            var unit => throw new ExpressionException($"unknown unit '{unit}' after a number; use B, KiB, MiB, GiB, TiB (1024) or kB, MB, GB, TB, k, M, G (1000)", start),
        };
    }

    private string ParseString(char quote)
    {
        int start = _pos++;
        var sb = new StringBuilder();
        while (_pos < text.Length)
        {
            char c = text[_pos++];
            if (c == quote) return sb.ToString();
            if (c == '\\' && _pos < text.Length)
            {
                char e = text[_pos++];
                sb.Append(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', _ => e });
                continue;
            }
            sb.Append(c);
        }
        throw new ExpressionException("string is not closed", start);
    }

    private static bool IsIdentStart(char c) => char.IsAsciiLetter(c) || c is '_' or '@';
    private static bool IsIdentPart(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '@' or '-';

    private bool TryKeyword(string keyword)
    {
        SkipSpace();
        if (string.CompareOrdinal(text, _pos, keyword, 0, keyword.Length) != 0) return false;
        int end = _pos + keyword.Length;
        if (end < text.Length && IsIdentPart(text[end])) return false;
        _pos = end;
        return true;
    }

    private bool TrySymbol(string symbol)
    {
        SkipSpace();
        if (string.CompareOrdinal(text, _pos, symbol, 0, symbol.Length) != 0) return false;
        _pos += symbol.Length;
        return true;
    }

    private void SkipSpace()
    {
        while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
    }

    private char Peek(int ahead) => _pos + ahead < text.Length ? text[_pos + ahead] : '\0';

    private string Rest() => text.Length - _pos > 20 ? text.Substring(_pos, 20) + "…" : text[_pos..];

    private ExpressionException Error(string message) => new(message, _pos);
}
