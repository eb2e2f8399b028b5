#!/usr/bin/env bash
# Benchmark: one agent running N probes (default 200) at 1 s intervals, publishing to an embedded broker in
# another process. Reports the agent's CPU as % of one core and the p99 scheduling lag (how much later than
# due a probe run started, from pipeline_probe_schedule_lag_seconds), and appends both with the command and
# the machine's load to bench/RESULTS.md under "## Probes".
#
#   bench/probes.sh [PROBES] [SECONDS]       defaults: 200 probes, 60 s measured after a 10 s warm-up
#
# The probe mix is cheap, local and realistic for a node agent: tcp connects to the broker, file
# freshness, disk (statvfs), memory and load. exec probes are left out: 200 process spawns a second
# measure fork/exec, not the scheduler.
set -euo pipefail
cd "$(dirname "$0")/.."
probes=${1:-200}
# MIX=tcp|file|disk|memory|load runs every probe as that one type, to see what each costs (not recorded).
mix=${MIX:-}
seconds=${2:-60}
warmup=10

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build -c Release cli/Pipeline.Cli/Pipeline.Cli.csproj -v q -nologo >/dev/null
bin=cli/Pipeline.Cli/bin/Release/net10.0/pipeline

work=$(mktemp -d /tmp/pipeline-bench-probes.XXXXXX)
broker_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
metrics_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/logs" "$work/files"
touch "$work/files/heartbeat"
{
  echo "data_dir = \"$work/data\""
  echo "host_name = \"bench-node\""
  echo "[kafka]"
  echo "embedded_port = $broker_port"
  [ -n "${KAFKA_PROPERTIES:-}" ] && echo "properties = { $KAFKA_PROPERTIES }"
  echo "[metrics]"
  echo "listen = \"127.0.0.1:$metrics_port\""
  echo "[probe_runner]"
  echo "concurrency = 16"
  echo "[[logs.inputs]]"
  echo "paths = [\"$work/logs/*.log\"]"
  for i in $(seq 1 "$probes"); do
    case $((i % 10)) in
      0|1|2|3) kind=tcp ;; 4|5|6) kind=file ;; 7|8) kind=disk ;; 9) if ((i % 20 == 9)); then kind=memory; else kind=load; fi ;;
    esac
    kind=${mix:-$kind}
    case $kind in
      tcp) echo -e "[[probes]]\nname = \"tcp-$i\"\ntype = \"tcp\"\ntarget = \"127.0.0.1:$broker_port\"\ninterval = \"1s\"\ntimeout = \"500ms\"" ;;
      file) echo -e "[[probes]]\nname = \"file-$i\"\ntype = \"file\"\ntarget = \"$work/files/heartbeat\"\nmax_age = \"1h\"\ninterval = \"1s\"" ;;
      disk) echo -e "[[probes]]\nname = \"disk-$i\"\ntype = \"disk\"\ntarget = \"/\"\ninterval = \"1s\"\ncondition = \"DiskPressure\"" ;;
      memory) echo -e "[[probes]]\nname = \"memory-$i\"\ntype = \"memory\"\ninterval = \"1s\"" ;;
      load) echo -e "[[probes]]\nname = \"load-$i\"\ntype = \"load\"\ninterval = \"1s\"\nmax_load_per_core = 1000" ;;
    esac
  done
} >"$work/bench.toml"

# The broker gets its own config: same data_dir and port, no /metrics (the agent's is the one measured).
printf 'data_dir = "%s"\n[kafka]\nembedded_port = %s\n[metrics]\nlisten = ""\n' "$work/data" "$broker_port" >"$work/broker.toml"
"$bin" broker --config "$work/broker.toml" >"$work/broker.log" 2>&1 &
broker=$!
agent=
cleanup() {
  [ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null || true
  kill "$broker" 2>/dev/null && wait "$broker" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do [ -s "$work/data/bootstrap" ] && break; sleep 0.2; done
"$bin" agent --config "$work/bench.toml" >"$work/agent.log" 2>&1 &
agent=$!
sleep "$warmup"
kill -0 "$agent" || { cat "$work/agent.log"; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$agent/stat"; }
scrape() { curl -s "http://127.0.0.1:$metrics_port/metrics"; }
scrape >"$work/m0"; t0=$(ticks); s0=$(date +%s.%N)
sleep "$seconds"
scrape >"$work/m1"; t1=$(ticks); s1=$(date +%s.%N)
load=$(cut -d' ' -f1-3 /proc/loadavg)

read -r cpu p50 p99 runs < <(python3 - "$work/m0" "$work/m1" "$t0" "$t1" "$s0" "$s1" "$(getconf CLK_TCK)" <<'PY'
import re, sys
def buckets(path):
    b, runs = {}, 0.0
    for line in open(path):
        m = re.match(r'pipeline_probe_schedule_lag_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
        if m: b[float('inf') if m.group(1) == '+Inf' else float(m.group(1))] = float(m.group(2))
        m = re.match(r'pipeline_probe_runs_total\{[^}]*\} (\S+)', line)
        if m: runs += float(m.group(1))
    return b, runs
(b0, r0), (b1, r1) = buckets(sys.argv[1]), buckets(sys.argv[2])
t0, t1, s0, s1, hz = map(float, sys.argv[3:8])
delta = sorted((le, b1[le] - b0.get(le, 0)) for le in b1)
total = delta[-1][1]
def quantile(q):
    # histogram_quantile: linear interpolation inside the bucket that holds the q-th observation
    rank, prev_le, prev_count = q * total, 0.0, 0.0
    for le, count in delta:
        if count >= rank:
            if le == float('inf'): return prev_le
            return prev_le + (le - prev_le) * (rank - prev_count) / max(count - prev_count, 1e-9)
        prev_le, prev_count = le, count
    return prev_le
cpu = (t1 - t0) / hz / (s1 - s0) * 100
print(f"{cpu:.2f} {quantile(0.5)*1000:.2f} {quantile(0.99)*1000:.2f} {int(r1 - r0)}")
PY
)

if [ -n "$mix" ]; then echo "MIX=$mix: agent CPU ${cpu}% of one core; lag p50 ${p50} ms, p99 ${p99} ms; ${runs} runs"; exit 0; fi
line="| $(date -u +%Y-%m-%d) | $probes probes @ 1s, ${seconds}s | $runs runs | ${cpu}% of one core | p50 ${p50} ms, p99 ${p99} ms | load ${load} on $(nproc) cores |"
echo "agent CPU ${cpu}% of one core; scheduling lag p50 ${p50} ms, p99 ${p99} ms; ${runs} runs in ${seconds}s; load average ${load}"
results=bench/RESULTS.md
[ -f "$results" ] || echo "# Benchmarks" >"$results"
if ! grep -q '^## Probes' "$results"; then
  cat >>"$results" <<'MD'

## Probes

One agent, N probes at 1 s intervals (tcp to the broker, file, disk, memory, load), publishing every result to
an embedded broker in another process. CPU is the agent process's user+system time as % of one core (it
includes the idle log tailer and librdkafka's threads); lag is how much later than due a run started
(p50/p99 interpolated from the `pipeline_probe_schedule_lag_seconds` histogram). Goal: under 2% of a core and p99 under 50 ms.
Command: `bench/probes.sh [PROBES] [SECONDS]`.

| date | setup | runs | CPU | scheduling lag | machine |
|---|---|---|---|---|---|
MD
fi
# Add the row to the end of this section's table, wherever other sections have since been appended.
python3 - "$results" "$line" <<'PY'
import sys
path, row = sys.argv[1], sys.argv[2]
lines = open(path).read().split("\n")
start = next(i for i, l in enumerate(lines) if l.startswith("## Probes"))
end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
last = max(i for i in range(start, end) if lines[i].startswith("|"))
lines.insert(last + 1, row)
open(path, "w").write("\n".join(lines))
PY
