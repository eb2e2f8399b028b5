using System.Globalization;
using System.Text.Json;

namespace Pipeline.Plumbing.Expressions;

public enum FieldKind : byte { Missing, Null, String, Number, Bool, Array, Object }

/// <summary>A field's value as the expression language sees it. A struct so evaluation allocates nothing.</summary>
public readonly struct FieldValue
{
    private FieldValue(FieldKind kind, string? text, double number, JsonElement json)
    {
        Kind = kind;
        Text = text;
        Number = number;
        Json = json;
    }

    public FieldKind Kind { get; }
    public string? Text { get; }
    public double Number { get; }
    /// <summary>The JSON array or object behind an <see cref="FieldKind.Array"/> or <see cref="FieldKind.Object"/> value.</summary>
    public JsonElement Json { get; }

    public static readonly FieldValue Missing = new(FieldKind.Missing, null, 0, default);
    public static readonly FieldValue Null = new(FieldKind.Null, null, 0, default);
    public static readonly FieldValue True = new(FieldKind.Bool, null, 1, default);
    public static readonly FieldValue False = new(FieldKind.Bool, null, 0, default);

    public static FieldValue Of(string? value) => value is null ? Null : new(FieldKind.String, value, 0, default);
    public static FieldValue Of(double value) => new(FieldKind.Number, null, value, default);
    public static FieldValue Of(bool value) => value ? True : False;

    public static FieldValue Of(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => new(FieldKind.String, element.GetString(), 0, default),
        JsonValueKind.Number => new(FieldKind.Number, null, element.GetDouble(), default),
        JsonValueKind.True => True,
        JsonValueKind.False => False,
        JsonValueKind.Null => Null,
        JsonValueKind.Array => new(FieldKind.Array, null, 0, element),
        JsonValueKind.Object => new(FieldKind.Object, null, 0, element),
        _ => Missing,
    };

    public bool IsPresent => Kind is not (FieldKind.Missing or FieldKind.Null);

    /// <summary>The value as a number, if it is one or is a string that reads as one.</summary>
    public bool TryGetNumber(out double number)
    {
        switch (Kind)
        {
            case FieldKind.Number: number = Number; return true;
            case FieldKind.Bool: number = Number; return true;
            case FieldKind.String: return double.TryParse(Text, NumberStyles.Float, CultureInfo.InvariantCulture, out number);
            default: number = 0; return false;
        }
    }

    /// <summary>Text used for grouping, templates and string comparison.</summary>
    public override string ToString() => Kind switch
    {
        FieldKind.String => Text!,
        FieldKind.Number => Number.ToString("G", CultureInfo.InvariantCulture),
        FieldKind.Bool => Number != 0 ? "true" : "false",
        FieldKind.Array or FieldKind.Object => Json.GetRawText(),
        FieldKind.Null => "null",
        _ => "",
    };
}
