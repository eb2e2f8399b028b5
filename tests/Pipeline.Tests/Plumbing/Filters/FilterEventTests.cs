using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Pipeline.Plumbing.Expressions;
using Pipeline.Plumbing.Filters;

namespace Pipeline.Tests.Plumbing.Filters;

/// <summary>
/// <see cref="FilterEvent"/> reads lazily (the parsed bytes plus its top-level changes) until a plugin asks for
/// <see cref="FilterEvent.Root"/>. Whatever a chain does, it must see and write exactly what the plain
/// <see cref="JsonObject"/> tree would: the same values, the same member order, the same removed nodes.
/// </summary>
public class FilterEventTests
{
    private static readonly string[] Sources =
    [
        """{"a":{"x":1,"y":"s"},"b":"str","message":"hello","n":null,"arr":[1,2]}""",
        """{"message":"GET /x 200","labels":{"env":"prod"},"log":{"level":"info","file":{"path":"/var/log/app.log"}}}""",
        """{}""",
    ];

    private static readonly string[] Paths = ["a", "b", "a.x", "a.y", "a.x.deep", "c.d.e", "message", "labels.env", "labels", "n", "n.k", "arr", "log.file.path", "new"];

    private enum Kind { Get, GetString, Set, Remove, Root }

    private static readonly Gen<JsonNode?> Values = Gen.OneOf(
        Gen.Int[-5, 5].Select(i => (JsonNode?)JsonValue.Create(i)),
        Gen.String[Gen.Char.AlphaNumeric, 0, 4].Select(s => (JsonNode?)JsonValue.Create(s)),
        Gen.Int[0, 0].Select(_ => (JsonNode?)null),
        Gen.Int[0, 3].Select(i => (JsonNode?)new JsonObject { ["k"] = i }));

    private static readonly Gen<(Kind Kind, string Path, Func<JsonNode?> Value)> Operations =
        Gen.Select(Gen.Int[0, 9], Gen.Int[0, Paths.Length - 1], Values)
            .Select(t => (t.Item1 switch { < 2 => Kind.Get, < 3 => Kind.GetString, < 7 => Kind.Set, < 9 => Kind.Remove, _ => Kind.Root },
                Paths[t.Item2], (Func<JsonNode?>)(() => t.Item3?.DeepClone())));

    [Fact]
    public void AnySequenceOfReadsAndChangesMatchesThePlainTree()
    {
        Gen.Select(Gen.Int[0, Sources.Length - 1], Operations.Array[0, 12]).Sample((source, operations) =>
        {
            var bytes = Encoding.UTF8.GetBytes(Sources[source]);
            var lazy = FilterEvent.Parse(bytes);
            var tree = new FilterEvent((JsonObject)JsonNode.Parse(bytes)!);
            foreach (var (kind, path, value) in operations)
            {
                switch (kind)
                {
                    case Kind.Get:
                        Assert.Equal(Show(tree.Get(new FieldPath(path))), Show(lazy.Get(new FieldPath(path))));
                        break;
                    case Kind.GetString:
                        Assert.Equal(tree.GetString(path), lazy.GetString(path));
                        break;
                    case Kind.Set:
                        tree.Set(path, value());
                        lazy.Set(path, value());
                        break;
                    case Kind.Remove:
                        var removed = tree.Remove(path);
                        var removedLazy = lazy.Remove(path);
                        Assert.Equal(removed?.ToJsonString(), removedLazy?.ToJsonString());
                        Assert.Null(removedLazy?.Parent);
                        break;
                    case Kind.Root:
                        Assert.Equal(tree.Root.ToJsonString(), lazy.Root.ToJsonString());
                        break;
                }
            }
            Assert.Equal(Written(tree), Written(lazy));
            Assert.Equal(Encoding.UTF8.GetString(tree.ToUtf8()), Encoding.UTF8.GetString(lazy.ToUtf8()));
        }, iter: 3000);
    }

    [Fact]
    public void AnUnchangedEventIsWrittenAsItWasRead()
    {
        var e = FilterEvent.Parse("""{"b":1,"a":{"z":[1,{"q":null}]},"message":"x"}"""u8);
        Assert.Equal("""{"b":1,"a":{"z":[1,{"q":null}]},"message":"x"}""", Written(e));
    }

    [Fact]
    public void AReplacedMemberKeepsItsPlaceAndANewOneComesLast()
    {
        var e = FilterEvent.Parse("""{"message":"token=abc","host":{"name":"h"},"n":1}"""u8);
        e.Set("message", JsonValue.Create("token=***"));
        e.Set("labels.env", JsonValue.Create("prod"));
        e.Set("host.ip", JsonValue.Create("10.0.0.1"));
        Assert.Equal("""{"message":"token=***","host":{"name":"h","ip":"10.0.0.1"},"n":1,"labels":{"env":"prod"}}""", Written(e));
    }

    [Fact]
    public void NotAnObjectOrMoreThanOneValueIsRefused()
    {
        Assert.Throws<JsonException>(() => FilterEvent.Parse("[1]"u8));
        Assert.ThrowsAny<JsonException>(() => FilterEvent.Parse("""{"a":1} {"b":2}"""u8));
        Assert.ThrowsAny<JsonException>(() => FilterEvent.Parse("""{"a":"""u8));
    }

    private static string Show(FieldValue v) => $"{v.Kind}:{v}";

    private static string Written(FilterEvent e)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) e.WriteTo(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
