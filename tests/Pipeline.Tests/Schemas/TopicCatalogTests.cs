using Pipeline.Schemas.Topics;

namespace Pipeline.Tests.Schemas;

public class TopicCatalogTests
{
    [Fact]
    public void EveryTopicHasAUniqueNameAndAVersionSuffix()
    {
        var names = TopicCatalog.All.Select(t => t.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(names, n => Assert.Matches(@"^ops\.[a-z]+\.v\d+$", n));
    }

}
