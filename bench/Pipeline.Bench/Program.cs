using Pipeline.Bench;

// bench/es.sh and bench/exporter.sh run this; each prints a Markdown section for bench/RESULTS.md on stdout.
return args switch
{
    ["es", .. var rest] => await ElasticsearchSinkBenchmark.RunAsync(rest),
    ["exporter", .. var rest] => await ExporterScrapeBenchmark.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Pipeline.Bench es [docs] [batch sizes...] | exporter [series...]");
    return 2;
}
