using System.Text.Json.Nodes;
using Pipeline.Plumbing.Expressions;
using Pipeline.Plumbing.Filters;

namespace Pipeline.Tests.Plumbing.Filters;

public class FilterEventTests
{
    /// <summary>
    /// A plugin may set a number as an int, a long or a decimal; a where clause reads every number as a double.
    /// Reading one used to throw ("a value of type Int32 cannot be converted to a Double"), failing the event.
    /// </summary>
    [Theory]
    [InlineData("int")]
    [InlineData("long")]
    [InlineData("decimal")]
    [InlineData("double")]
    public void ANumberAPluginSetIsReadAsANumberWhateverItsType(string type)
    {
        var e = BuiltInFilterTests.Event();
        e.Set("http.status", type switch
        {
            "int" => JsonValue.Create(503),
            "long" => JsonValue.Create(503L),
            "decimal" => JsonValue.Create(503m),
            _ => JsonValue.Create(503.0),
        });
        var value = e.Get(new FieldPath("http.status"));
        Assert.Equal(FieldKind.Number, value.Kind);
        Assert.Equal("503", value.ToString());
    }
}
