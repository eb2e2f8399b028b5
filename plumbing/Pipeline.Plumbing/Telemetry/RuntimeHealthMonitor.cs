using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Plumbing.Config;
using Pipeline.Plumbing.Kafka;
using Pipeline.Schemas.Events;
using Pipeline.Schemas.Serialization;
using Pipeline.Schemas.Topics;

namespace Pipeline.Plumbing.Telemetry;

/// <summary>
/// Watches this process's .NET runtime against <c>[runtime_health]</c> and raises its own alerts, the
/// same kind as any rule's (<c>alert.source=self</c>), so a pipeline that is drowning says so where
/// its operators already look.
/// </summary>
public sealed class RuntimeHealthMonitor(PipelineConfig config, KafkaSettings kafka, string serviceName, ILogger<RuntimeHealthMonitor> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private readonly RuntimeHealthConfig _limits = config.RuntimeHealth;
    private readonly Dictionary<string, DateTimeOffset> _firingSince = new(StringComparer.Ordinal);
    private long _exceptions;
    private long _lastExceptions;
    private DateTime _lastCheck = DateTime.UtcNow;

    /// <summary>The current value of each check and its limit.</summary>
    public IEnumerable<(string Check, double Value, double Limit)> Measure()
    {
        var now = DateTime.UtcNow;
        long exceptions = Interlocked.Read(ref _exceptions);
        double seconds = Math.Max(0.001, (now - _lastCheck).TotalSeconds);
        double rate = (exceptions - _lastExceptions) / seconds;
        _lastExceptions = exceptions;
        _lastCheck = now;
        using var process = Process.GetCurrentProcess();
        yield return ("threadpool_queue", ThreadPool.PendingWorkItemCount, _limits.ThreadpoolQueueMax);
        yield return ("thread_count", process.Threads.Count, _limits.ThreadCountMax);
        yield return ("gc_pause_percent", GC.GetGCMemoryInfo().PauseTimePercentage, _limits.GcPausePercentMax);
        yield return ("heap_bytes", GC.GetTotalMemory(false), _limits.HeapBytesMax);
        yield return ("exceptions_per_second", rate, _limits.ExceptionsPerSecondMax);
    }

    // Its own thread, started here and not from BackgroundService.ExecuteAsync: since .NET 10 the host runs
    // ExecuteAsync on the thread pool, so a pool already flooded at start would never even start its own alarm.
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_limits.Enabled) return Task.CompletedTask;
        _thread = new Thread(() => Run(_stop.Token)) { IsBackground = true, Name = "runtime health" };
        _thread.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        // Run ends within one interval plus its final flush (at most 5 s).
        _thread?.Join(TimeSpan.FromSeconds(10));
        return Task.CompletedTask;
    }

    public void Dispose() => _stop.Dispose();

    private void Run(CancellationToken stoppingToken)
    {
        AppDomain.CurrentDomain.FirstChanceException += (_, _) => Interlocked.Increment(ref _exceptions);
        using var producer = new ProducerBuilder<string, byte[]>(kafka.Producer("runtime-health")).SetLogHandler(KafkaLog.To(logger)).Build();
        var interval = Duration.Parse(_limits.Interval);
        while (!stoppingToken.WaitHandle.WaitOne(interval))
        {
            foreach (var (check, value, limit) in Measure())
            {
                bool over = value > limit;
                bool firing = _firingSince.ContainsKey(check);
                if (over == firing) continue;
                var now = DateTimeOffset.UtcNow;
                if (over)
                {
                    _firingSince[check] = now;
                    logger.LogWarning("runtime health: {Check} is {Value:0.##}, over its threshold {Limit:0.##}", check, value, limit);
                }
                else
                {
                    logger.LogInformation("runtime health: {Check} is back to {Value:0.##} (threshold {Limit:0.##})", check, value, limit);
                }
                PipelineMetrics.RuntimeThresholdExceeded.WithLabels(check).Set(over ? 1 : 0);
                var alert = Alert(check, value, limit, over, over ? now : _firingSince[check], now);
                if (!over) _firingSince.Remove(check);
                producer.Produce(TopicCatalog.Alerts.Name, new Message<string, byte[]> { Key = alert.Alert.Fingerprint, Value = EventSerializer.Serialize(alert) },
                    r => { if (r.Error.IsError) logger.LogWarning("runtime health alert not delivered: {Reason}", r.Error.Reason); });
            }
        }
        producer.Flush(TimeSpan.FromSeconds(5));
    }

    private AlertEvent Alert(string check, double value, double limit, bool firing, DateTimeOffset since, DateTimeOffset now)
    {
        var host = config.EffectiveHostName;
        var name = "runtime-" + check.Replace('_', '-');
        var fingerprint = EventIds.FromParts("alert", name, host, serviceName);
        var status = firing ? AlertStatus.Firing : AlertStatus.Resolved;
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return new AlertEvent
        {
            Timestamp = now,
            Event = new EventInfo { Kind = EventKinds.Alert, Dataset = "ops.alerts", Id = EventIds.FromParts(fingerprint, status, since.UtcTicks.ToString(inv)), Severity = 2 },
            Host = new HostInfo { Name = host },
            Alert = new AlertInfo
            {
                Name = name, Status = status, Severity = "warning", Fingerprint = fingerprint, Value = value, Threshold = limit,
                Op = ">", Window = _limits.Interval, Source = "self",
                Group = new Dictionary<string, string> { ["host.name"] = host, ["service.name"] = serviceName }, StartedAt = since,
            },
            Message = firing
                ? $"{serviceName} on {host}: {check} is {value.ToString("0.##", inv)}, over {limit.ToString("0.##", inv)}"
                : $"resolved: {serviceName} on {host}: {check} is back to {value.ToString("0.##", inv)}",
        };
    }
}
