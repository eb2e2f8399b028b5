#!/usr/bin/env bash
# Stream processors benchmark, on the embedded broker (a `pipeline broker` process, fresh for every run):
#   passthrough  a bare Streamiz topology, ops.logs.v1 -> bench.passthrough, no operators (the ceiling)
#   full         the processors' real topology from the config below: decode, a 3-filter chain (dissect,
#                redact, add_fields), 5 count() rules grouped by host.name -> windows -> alert evaluator
# Throughput: EVENTS log events over KEYS hosts are produced first (Pipeline.Bench processors produce), then
# a separate process (Pipeline.Bench processors run) starts the topology and drains that backlog; the rate is
# counted between the group's first commit and its last commit before the drain completed (every input, source
# and repartition topics, committed to its end), so start-up and the last commit interval are left out. Memory: peak RSS (VmHWM) of that process, for KEYS and for
# BIG_KEYS hosts. Latency: bench/latency.sh (threshold-crossing line -> alert read by kcat), run as is.
#
#   bash bench/processors.sh            # from the repo root; RUNS=3
#
# Environment:
#   RUNS=3              throughput runs of each variant, interleaved (passthrough, full, passthrough, ...)
#   EVENTS=400000       events per throughput run (the drain is measured between commits, 1 s apart as shipped)
#   COMMIT_MS=          the stream's commit interval, for both variants; the shipped 1000 when unset
#   KEYS=10000          distinct hosts (the rules' group_by keys) in the throughput runs
#   BIG_KEYS=100000     hosts in the memory run (with BIG_EVENTS=200000 events, 2 a host)
#   LAT_SAMPLES=30      samples for bench/latency.sh; SKIP_LATENCY=1 leaves it out
#   NO_BUILD=1          skip `dotnet build -c Release`
#   NO_RESULTS=1        do not append to bench/RESULTS.md
#
# Needs: kcat and python3 for bench/latency.sh (apt-get install -y kcat python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/bench/out/processors
RUNS=${RUNS:-3}
EVENTS=${EVENTS:-400000}
KEYS=${KEYS:-10000}
BIG_KEYS=${BIG_KEYS:-100000}
BIG_EVENTS=${BIG_EVENTS:-200000}
LAT_SAMPLES=${LAT_SAMPLES:-30}
DLL=$ROOT/cli/Pipeline.Cli/bin/Release/net10.0/pipeline.dll
BENCH=$ROOT/bench/Pipeline.Bench/bin/Release/net10.0/Pipeline.Bench.dll

if [[ ${NO_BUILD:-0} != 1 ]]; then
    echo "building the CLI and the bench (Release)..."
    dotnet build -c Release cli/Pipeline.Cli -nologo -v q -clp:ErrorsOnly
    dotnet build -c Release bench/Pipeline.Bench -nologo -v q -clp:ErrorsOnly
fi
[[ -f $DLL && -f $BENCH ]] || { echo "no $DLL or $BENCH; build failed?" >&2; exit 1; }
mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$OUT/work-$STAMP
REPORT=$OUT/processors-$STAMP.txt
ROWS=$WORK/rows.txt
mkdir -p "$WORK"
: > "$ROWS"

BROKER_PID=""
stop_broker() {
    [[ -n $BROKER_PID ]] || return 0
    kill -INT "$BROKER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
    BROKER_PID=""
}
trap stop_broker EXIT

write_config() { # dir
    cat > "$1/processors.toml" <<EOF
data_dir = "$1"
host_name = "benchhost"

[processors]
default_rules = false
application_id = "bench-processors"

[[processors.filters]]
source = "logs"
type = "dissect"
pattern = "%{ts} %{level} [%{worker}] %{method} %{path} %{rest}"
target = "parsed"

[[processors.filters]]
source = "logs"
type = "redact"

[[processors.filters]]
source = "logs"
type = "add_fields"
fields = { "labels.env" = "bench", "labels.team" = "sre" }

[[rules]]
name = "error-lines"
where = 'log.level == "error"'
group_by = ["host.name"]
threshold = 5
window = "1m"

[[rules]]
name = "warn-lines"
where = 'log.level == "warn"'
group_by = ["host.name"]
threshold = 10
window = "1m"

[[rules]]
name = "server-errors"
where = 'message contains "status=5"'
group_by = ["host.name"]
threshold = 3
window = "1m"

[[rules]]
name = "payment-timeouts"
where = 'parsed.path == "/api/v1/orders" and message contains "timeout"'
group_by = ["host.name", "parsed.path"]
threshold = 2
window = "1m"

[[rules]]
name = "busy-host"
where = 'not (parsed.path == "/health")'
group_by = ["host.name"]
threshold = 50
window = "1m"
EOF
}

# One run: fresh broker, backlog produced, topology drained. Appends "key=value ..." to $ROWS.
run_one() { # variant events keys
    local variant=$1 events=$2 keys=$3 dir
    dir=$WORK/run-$(wc -l < "$ROWS")-$variant
    mkdir -p "$dir"
    write_config "$dir"
    env --default-signal=INT dotnet "$DLL" broker --config "$dir/processors.toml" > "$dir/broker.log" 2>&1 &
    BROKER_PID=$!
    for _ in $(seq 1 300); do [[ -s $dir/bootstrap ]] && break; sleep 0.1; done
    [[ -s $dir/bootstrap ]] || { echo "broker did not start:" >&2; cat "$dir/broker.log" >&2; exit 1; }
    local b load line
    b=$(cat "$dir/bootstrap")
    dotnet "$BENCH" processors produce "$b" "$events" "$keys" 2>> "$dir/bench.err"
    load=$(cut -d' ' -f1 /proc/loadavg)
    line=$(dotnet "$BENCH" processors run "$dir/processors.toml" "$b" "$variant" "$events" 2>> "$dir/bench.err") \
        || { echo "run failed:" >&2; cat "$dir/bench.err" >&2; exit 1; }
    stop_broker
    echo "$line keys=$keys load=$load" | tee -a "$ROWS" >&2
}

echo "throughput: $RUNS run(s) of each variant, $EVENTS events over $KEYS keys; load average now $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 1; r <= RUNS; r++)); do
    run_one passthrough "$EVENTS" "$KEYS"
    run_one full "$EVENTS" "$KEYS"
done
echo "memory: full topology with $BIG_KEYS keys ($BIG_EVENTS events)" >&2
run_one full "$BIG_EVENTS" "$BIG_KEYS"

LAT_REPORT=""
if [[ ${SKIP_LATENCY:-0} != 1 ]]; then
    echo "latency: bench/latency.sh with SAMPLES=$LAT_SAMPLES" >&2
    NO_BUILD=1 SAMPLES=$LAT_SAMPLES bash bench/latency.sh > "$WORK/latency.out" 2>&1 || { echo "bench/latency.sh failed:" >&2; tail -n 20 "$WORK/latency.out" >&2; }
    LAT_REPORT=$(sed -n 's/^report: //p' "$WORK/latency.out")
fi

# Medians per (variant, keys); the throughput ratio; the rows themselves.
python3 - "$ROWS" "$KEYS" "$BIG_KEYS" "${LAT_REPORT:-}" > "$REPORT" <<'PYEOF'
import statistics, sys
rows_path, keys, big_keys, lat_report = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(rows_path) if line.strip()]
def pick(variant, k):
    return [r for r in rows if r["variant"] == variant and int(r["keys"]) == k]
def med(rs, field):
    return statistics.median(float(r[field]) for r in rs) if rs else float("nan")
print("| variant | keys | events | runs | events/s (median) | each run | rate measured over s | drained s | CPU s (µs/event) | peak RSS MiB | load avg (1 min) at each run |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for variant, k in (("passthrough", keys), ("full", keys), ("full", big_keys)):
    rs = pick(variant, k)
    if not rs:
        continue
    cpu = med(rs, "cpu_s")
    ev = med(rs, "events")
    each = ", ".join(format(float(r["rate"]), ",.0f") for r in rs)
    print(f"| {variant} | {k:,} | {int(ev):,} | {len(rs)} | **{med(rs, 'rate'):,.0f}** | {each} | "
          f"{med(rs, 'seconds'):.2f} | {med(rs, 'drained_s'):.2f} | {cpu:.2f} ({cpu / ev * 1e6:.0f}) | {med(rs, 'peak_rss_mib'):.0f} | {', '.join(r['load'] for r in rs)} |")
p, f = med(pick("passthrough", keys), "rate"), med(pick("full", keys), "rate")
print()
print(f"full / pass-through throughput: **{f / p:.2f}×** (goal ≥ 0.5×)")
print(f"peak RSS, full topology: {med(pick('full', keys), 'peak_rss_mib'):.0f} MiB with {keys:,} keys, {med(pick('full', big_keys), 'peak_rss_mib'):.0f} MiB with {big_keys:,} keys")
if lat_report:
    print()
    print(f"latency ({lat_report}):")
    for line in open(lat_report):
        if line.lstrip().startswith(("kcat", "console", "tailer read", "rule fired", "append ->")) or line.startswith(("machine", "samples", "firing", "alert lifecycle")):
            print("    " + line.rstrip())
PYEOF

{
    echo
    echo "_$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) CPUs, load average at the end $(cut -d' ' -f1-3 /proc/loadavg)_"
    echo
    echo "\`bash bench/processors.sh\` (RUNS=$RUNS, EVENTS=$EVENTS, KEYS=$KEYS, BIG_KEYS=$BIG_KEYS with BIG_EVENTS=$BIG_EVENTS; report \`${REPORT#"$ROOT"/}\`)"
    echo
    cat "$REPORT"
} > "$WORK/section.md"
cat "$WORK/section.md"
if [[ ${NO_RESULTS:-0} != 1 ]]; then
    results=bench/RESULTS.md
    grep -q '^## Stream processors$' "$results" || printf '\n## Stream processors\n' >> "$results"
    cat "$WORK/section.md" >> "$results"
fi
