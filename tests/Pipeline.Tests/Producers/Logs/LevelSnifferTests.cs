using System.Text;
using Pipeline.Producers.Logs;

namespace Pipeline.Tests.Producers.Logs;

public class LevelSnifferTests
{
    [Theory]
    [InlineData("ERROR disk full", "error")]
    [InlineData("error: disk full", "error")]
    [InlineData("Error while connecting", "error")]
    [InlineData("2024-05-01T12:00:00Z [WARN] slow response", "warn")]
    [InlineData("ts=2024-05-01 level=warn msg=\"slow\"", "warn")]
    [InlineData("{\"level\":\"info\",\"msg\":\"started\"}", "info")]
    [InlineData("WARNING: deprecated option", "warn")]
    [InlineData("<3>Jan  1 00:00:00 host kernel: CRIT temperature", "fatal")]
    [InlineData("DEBUG cache miss", "debug")]
    [InlineData("E0501 12:00:00 err=timeout", "error")]
    public void AStatedLevelIsFound(string line, string level) => Assert.Equal(level, LevelSniffer.Sniff(Encoding.UTF8.GetBytes(line)));

    [Theory]
    [InlineData("service started on port 8080")]
    [InlineData("the terror of tiny bugs")]
    [InlineData("informational messages and warnings")]
    [InlineData("eRRor is not how anyone writes a level")]
    [InlineData("")]
    public void NoLevelIsFoundWhereNoneIsStated(string line) => Assert.Null(LevelSniffer.Sniff(Encoding.UTF8.GetBytes(line)));

    [Fact]
    public void OnlyTheStartOfALineIsLookedAt()
        => Assert.Null(LevelSniffer.Sniff(Encoding.UTF8.GetBytes(new string('x', 200) + " ERROR")));

    [Fact]
    public void TheFirstLevelWordWins()
        => Assert.Equal("info", LevelSniffer.Sniff("INFO retry after error"u8));
}
