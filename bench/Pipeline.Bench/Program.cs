using Pipeline.Bench;

// bench/es.sh, bench/exporter.sh and bench/processors.sh run this; es and exporter print a Markdown section for
// bench/RESULTS.md on stdout, processors one line of results per run for the script to tabulate.
return args switch
{
    ["es", .. var rest] => await ElasticsearchSinkBenchmark.RunAsync(rest),
    ["exporter", .. var rest] => await ExporterScrapeBenchmark.RunAsync(rest),
    ["processors", .. var rest] => await ProcessorsBenchmark.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Pipeline.Bench es [docs] [batch sizes...] | exporter [series...] | processors produce|run ...");
    return 2;
}
