using System.Text;
using CsCheck;
using Pipeline.Processors.Rules;

namespace Pipeline.Tests.Processors;

/// <summary>The evaluator's store format: every state reads back as it was written, and state written as JSON by earlier versions still reads.</summary>
public class AlertStateFormatTests
{
    private static readonly Gen<DateTimeOffset> Time = Gen.Long[0, DateTimeOffset.MaxValue.UtcTicks].Select(t => new DateTimeOffset(t, TimeSpan.Zero));
    private static readonly Gen<double> Number = Gen.OneOf(Gen.Double, Gen.Const(double.PositiveInfinity), Gen.Const(double.NegativeInfinity));

    private static readonly Gen<AlertState> States =
        Gen.Select(Gen.Bool, Time, Gen.OneOf(Time.Select(t => (DateTimeOffset?)t), Gen.Const((DateTimeOffset?)null)), Number, Time, Gen.Long, Gen.Long, Gen.Long)
            .SelectMany(f => Gen.Dictionary(Gen.Long, Gen.Select(Gen.Long[0, 1_000_000], Number, Number, Number))[0, 4], (f, windows) => new AlertState
            {
                Firing = f.Item1, FiringSince = f.Item2, HoldingSince = f.Item3, HoldingValue = f.Item4, LastAnnounced = f.Item5,
                LastSeenMs = f.Item6, LastHoldingEndMs = f.Item7, LastClosedEndMs = f.Item8,
                Open = windows.ToDictionary(w => w.Key, w => new WindowAggregate(w.Value.Item1, w.Value.Item2, w.Value.Item3, w.Value.Item4)),
            });

    [Fact]
    public void EveryStateReadsBackAsItWasWritten()
    {
        States.Sample(state =>
        {
            var back = AlertStateFormat.Deserialize(AlertStateFormat.Serialize(state)) ?? throw new InvalidOperationException("not read back");
            return back.Firing == state.Firing && back.FiringSince == state.FiringSince && back.HoldingSince == state.HoldingSince
                && back.HoldingValue.Equals(state.HoldingValue) && back.LastAnnounced == state.LastAnnounced && back.LastSeenMs == state.LastSeenMs
                && back.LastHoldingEndMs == state.LastHoldingEndMs && back.LastClosedEndMs == state.LastClosedEndMs
                && back.Open.Count == state.Open.Count && state.Open.All(w => back.Open.TryGetValue(w.Key, out var b) && b.Equals(w.Value));
        });
    }

    [Fact]
    public void AFiringStateWrittenAsJsonByAnEarlierVersionIsStillFiringAndItsBareWindowValuesAreDropped()
    {
        var json = """{"firing":true,"firing_since":"2026-11-27T10:00:00+00:00","holding_since":null,"holding_value":7,"last_announced":"2026-11-27T10:00:00+00:00","last_seen_ms":5,"last_holding_end_ms":60000,"last_closed_end_ms":0,"open":{"60000":3}}""";
        var state = AlertStateFormat.Deserialize(Encoding.UTF8.GetBytes(json))!;
        Assert.True(state.Firing);
        Assert.Equal(DateTimeOffset.Parse("2026-11-27T10:00:00Z"), state.FiringSince);
        Assert.Equal(60000, state.LastHoldingEndMs);
        Assert.Empty(state.Open);
    }

    [Fact]
    public void BytesOfNeitherFormatAreNotAState()
    {
        Assert.Null(AlertStateFormat.Deserialize([9, 1, 2]));
        var truncated = AlertStateFormat.Serialize(new AlertState { Open = { [0] = WindowAggregate.Empty.Add(1) } })[..^8];
        Assert.Null(AlertStateFormat.Deserialize(truncated));
    }
}
