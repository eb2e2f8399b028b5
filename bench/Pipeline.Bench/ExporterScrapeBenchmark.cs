using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Telemetry;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;
using Pipeline.Sinks.Metrics;
using Pipeline.Testing;

namespace Pipeline.Bench;

/// <summary>
/// Scrape time and size of /metrics with the exporter holding 10,000 and 100,000 series, in both formats, through the
/// real endpoint over loopback HTTP. Series are made of probe events (two series each: success and duration).
/// </summary>
internal static class ExporterScrapeBenchmark
{
    private const int Scrapes = 15;

    public static async Task<int> RunAsync(string[] args)
    {
        int[] targets = args.Length > 0 ? [.. args.Select(a => int.Parse(a, CultureInfo.InvariantCulture))] : [10_000, 100_000];
        int port = FreePort.Next();
        using var endpoint = new MetricsEndpoint(new MetricsConfig { Listen = $"127.0.0.1:{port}" }, NullLogger<MetricsEndpoint>.Instance);
        await endpoint.StartAsync(CancellationToken.None);
        var metrics = new EventMetrics(new ExporterConfig { MaxSeriesPerMetric = 1_000_000 }, Prometheus.Metrics.DefaultFactory);
        using var http = new HttpClient();
        var rows = new List<string>();
        int probes = 0;
        foreach (var target in targets)
        {
            var watch = Stopwatch.StartNew();
            long allocated = GC.GetTotalAllocatedBytes();
            for (; probes * 2 < target; probes++)
            {
                metrics.Observe(TopicCatalog.Probes.Name, Probe(probes), 0);
            }
            var feedSeconds = watch.Elapsed.TotalSeconds;
            GC.Collect();
            foreach (var openMetrics in new[] { false, true })
            {
                var times = new List<double>();
                long bytes = 0;
                for (int i = 0; i < Scrapes; i++)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/metrics");
                    if (openMetrics) request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("application/openmetrics-text; version=1.0.0"));
                    var scrape = Stopwatch.StartNew();
                    using var response = await http.SendAsync(request);
                    var body = await response.Content.ReadAsByteArrayAsync();
                    times.Add(scrape.Elapsed.TotalMilliseconds);
                    bytes = body.Length;
                }
                times.Sort();
                rows.Add($"| {metrics.SeriesCount:N0} | {(openMetrics ? "OpenMetrics" : "text 0.0.4")} | {times[Scrapes / 2]:0.0} | {times[Scrapes * 9 / 10]:0.0} | {bytes / 1024.0 / 1024.0:0.00} |");
            }
            Console.Error.WriteLine($"{metrics.SeriesCount} series: fed in {feedSeconds:0.00}s, {(GC.GetTotalAllocatedBytes() - allocated) / (double)(probes):0} bytes allocated per probe event while creating series");
        }
        await endpoint.StopAsync(CancellationToken.None);
        Console.WriteLine($"### Exporter: /metrics scrape time and size (median and p90 of {Scrapes} scrapes over loopback HTTP; all the process's other metrics included)");
        Console.WriteLine();
        Console.WriteLine("| exporter series | format | median ms | p90 ms | MiB |");
        Console.WriteLine("|---:|---|---:|---:|---:|");
        foreach (var row in rows) Console.WriteLine(row);
        return 0;
    }

    private static byte[] Probe(int n) => EventSerializer.Serialize(new ProbeEvent
    {
        Timestamp = DateTimeOffset.UnixEpoch,
        Event = new EventInfo { Kind = EventKinds.Event, Dataset = TopicCatalog.Probes.Dataset, Id = n.ToString(CultureInfo.InvariantCulture) },
        Host = new HostInfo { Name = $"host-{n / 50:D5}" },
        Probe = new ProbeInfo { Name = $"probe-{n % 50:D2}", Type = "http", Target = "http://localhost/", Status = n % 7 == 0 ? "problem" : "ok", DurationMs = n % 1000 },
        Message = "probe",
    });
}
