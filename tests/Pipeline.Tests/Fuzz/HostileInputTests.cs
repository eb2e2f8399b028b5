using System.Text;
using System.Text.Json;
using CsCheck;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Expressions;
using Pipeline.Processors.Decoding;
using Pipeline.Producers.Logs;
using Pipeline.Schemas.Topics;

namespace Pipeline.Tests.Fuzz;

/// <summary>
/// Random hostile input, with a fixed seed so a failure reproduces, against every parser that reads
/// outside data here: no input may crash or hang; each bad one gets its own clean error.
/// (bench/fuzz.sh runs the same properties far longer.)
/// </summary>
public class HostileInputTests
{
    private const string Seed = "0N0XIzNsQ0O2";
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("PIPELINE_FUZZ_ITERATIONS"), out var n) ? n : 3000;

    // Text that is mostly TOML-shaped, so the fuzzer gets past the first token often.
    private static readonly Gen<string> TomlIsh = Gen.OneOf(
        Gen.String,
        Gen.String[Gen.Char["[]=\"'{},.#\n abckdefghilmnoprstuwxyz_0123456789:-${}"], 0, 200],
        Gen.Select(Gen.OneOf(Gen.Const("[kafka]\n"), Gen.Const("[[rules]]\n"), Gen.Const("[[logs.inputs]]\n"), Gen.Const("")),
                   Gen.String[Gen.Char["=\"'[]{},.\n abcdefghijklmnopqrstuvwxyz_0123456789"], 0, 120])
            .Select((a, b) => a + b));

    [Fact]
    public void AnyConfigTextLoadsOrFailsWithALocatedConfigError()
    {
        TomlIsh.Sample(text =>
        {
            try
            {
                ConfigLoader.Parse(text, "fuzz.toml");
            }
            catch (ConfigException e)
            {
                Assert.NotEmpty(e.Errors);
                Assert.All(e.Errors, err => Assert.Equal("fuzz.toml", err.Location.File));
            }
        }, seed: Seed, iter: Iterations, time: -1);
    }

    [Fact]
    public void AnyExpressionTextParsesOrFailsWithAPositionInsideIt()
    {
        Gen.String[Gen.Char["ab.=!<>()&|\"' 019-+eE~[],@_"], 0, 60].Sample(text =>
        {
            try { Expression.Parse(text); }
            catch (ExpressionException e) { Assert.InRange(e.Position, 0, text.Length); }
        }, seed: Seed, iter: Iterations, time: -1);
    }

    [Fact]
    public void AnyBytesInALogLineBecomeAValidJsonEvent()
    {
        // One encoder per thread: CsCheck samples in parallel and an encoder is single-threaded by design.
        using var encoders = new ThreadLocal<LogEventEncoder>(() => new LogEventEncoder("fuzz-host", new Dictionary<string, string> { ["k"] = "v" }, ["t"]));
        Gen.Byte.Array[0, 400].Sample(bytes =>
        {
            var encoder = encoders.Value!;
            var flags = LineFlags.None;
            var line = LogEventEncoder.Sanitize(bytes, ref flags);
            var json = encoder.Encode(line, 0, "/x.log", "1:2:3", DateTimeOffset.UnixEpoch, flags);
            using var doc = JsonDocument.Parse(json);
            Assert.Equal(System.Text.Unicode.Utf8.IsValid(bytes), (flags & LineFlags.InvalidUtf8) == 0);
            Assert.Equal(JsonValueKind.String, doc.RootElement.GetProperty("message").ValueKind);
        }, seed: Seed, iter: Iterations, time: -1);
    }

    [Fact]
    public void AnyRecordValueIsDecodedOrDeadLetteredWithAReason()
    {
        var jsonish = Gen.OneOf(
            Gen.Byte.Array[0, 200],
            Gen.String[Gen.Char["{}[]\":,@abcdefghijklmnopqrstuvwxyz0123456789.- "], 0, 200].Select(s => Encoding.UTF8.GetBytes(s)));
        jsonish.Sample(bytes =>
        {
            var decoded = EventDecoder.Decode(TopicCatalog.Logs.Name, bytes);
            if (decoded.IsDeadLetter)
            {
                Assert.False(string.IsNullOrEmpty(decoded.DeadLetterReason));
                Assert.False(string.IsNullOrEmpty(decoded.Error));
            }
        }, seed: Seed, iter: Iterations, time: -1);
    }

    [Fact]
    public void AnyBytesAreAtWorstNoLevel()
    {
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            var level = LevelSniffer.Sniff(bytes);
            Assert.True(level is null or "trace" or "debug" or "info" or "warn" or "error" or "fatal");
        }, seed: Seed, iter: Iterations, time: -1);
    }

    [Fact]
    public void AnyRecordValueYieldsAnEventTimeOrNone()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            if (EventTimeExtractor.TryRead(bytes, out var ms)) Assert.InRange(ms, DateTimeOffset.MinValue.ToUnixTimeMilliseconds(), DateTimeOffset.MaxValue.ToUnixTimeMilliseconds());
        }, seed: Seed, iter: Iterations, time: -1);
    }
}
