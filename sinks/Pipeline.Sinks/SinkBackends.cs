using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Sinks.Files;

namespace Pipeline.Sinks;

/// <summary>The registry of sink backends: which one a config selects.</summary>
public static class SinkBackends
{
    public static IBatchWriter Create(PipelineConfig config, ILoggerFactory loggerFactory)
    {
        if (string.IsNullOrEmpty(config.Elasticsearch.Url))
        {
            var directory = Path.Combine(config.DataDir, "ndjson");
            loggerFactory.CreateLogger("pipeline").LogInformation("no elasticsearch.url: writing NDJSON bulk files to {Directory}", Path.GetFullPath(directory));
            return new NdjsonFileWriter(directory, config.Sinks.NdjsonMaxFileBytes);
        }
        return Elasticsearch.ElasticsearchBulkWriter.Create(config.Elasticsearch, loggerFactory.CreateLogger("Pipeline.Sinks.Elasticsearch"));
    }
}
