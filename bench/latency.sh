#!/usr/bin/env bash
# Alert latency: append one ERROR line to a tailed file -> `pipeline run` (tailer -> ops.logs.v1 ->
# Streamiz rule -> ops.alerts.v1) -> the firing alert read by `kcat -C`.
#
#   bash bench/latency.sh              # from the repo root; SAMPLES=30 by default
#   SAMPLES=100 bash bench/latency.sh
#
# Environment:
#   SAMPLES=30        measured samples (after WARMUP unmeasured ones)
#   WARMUP=3          samples sent first and not counted (JIT, first fetches, group join)
#   GAP_MS=500        pause between samples (plus 0-99 ms of jitter, so samples do not lock onto the tailer's 100 ms scan)
#   PORT=39292        fixed embedded_port of `pipeline run`; its /metrics uses PORT+1
#   NO_BUILD=1        skip `dotnet build`
#
# Needs (Debian): kcat, python3 (/usr/bin/python3, stdlib only: time-stamps the lines each reader prints,
# and computes the statistics), coreutils >= 8.31 (env --default-signal). `apt-get install -y kcat`.
#
# The rule is count() >= 1 over window="2s", grouped by ["host.name", "message"]. Every sample line has a
# unique message, so every sample opens a new group and fires a new alert at once, without waiting for an
# earlier alert to resolve. count() >= N fires on the record that crosses the threshold (ThresholdRule.FiresEarly),
# not when the window closes, so nothing is subtracted for the window: "raw" is the number to read.
#
# Three readers time-stamp each alert as it arrives (all on this machine's clock):
#   kcat        kcat -C -b B -t ops.alerts.v1 -o end -u                       (the command as a user would type it;
#               librdkafka's default fetch.wait.max.ms=500, and the mock broker holds an empty fetch that long)
#   kcat-10ms   the same with -X fetch.wait.max.ms=10                         (what the pipeline's own consumers use)
#   console     the FIRING line `pipeline run` prints on stdout               (its ConsoleAlertPrinter, another Kafka consumer)
# The stage split comes from the timestamps the pipeline writes: the log event's @timestamp (when the tailer
# read and encoded the line; read off ops.logs.v1 by a fourth kcat) and the alert's @timestamp (when the rule fired).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/bench/out
SAMPLES=${SAMPLES:-30}
WARMUP=${WARMUP:-3}
GAP_MS=${GAP_MS:-500}
PORT=${PORT:-39292}
METRICS_PORT=$((PORT + 1))
PY=/usr/bin/python3
DLL=$ROOT/cli/Pipeline.Cli/bin/Release/net10.0/pipeline.dll
HOST=benchhost
WINDOW=2s

for tool in kcat "$PY" dotnet; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y kcat python3)" >&2; exit 1; }
done
env --default-signal=INT true 2>/dev/null || { echo "env --default-signal needs coreutils >= 8.31" >&2; exit 1; }

if [[ ${NO_BUILD:-0} != 1 ]]; then
    echo "building the CLI (Release)..."
    dotnet build -c Release cli/Pipeline.Cli -nologo -v q -clp:ErrorsOnly
fi
[[ -f $DLL ]] || { echo "no $DLL; build failed?" >&2; exit 1; }

WORK=$OUT/latency-work
rm -rf "$WORK"
mkdir -p "$WORK"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
REPORT=$OUT/latency-$STAMP.txt
APP_LOG=$WORK/app.log
: > "$APP_LOG"
: > "$WORK/appends.tsv"

# Prefixes every line read on stdin with the wall-clock time it arrived (seconds, microseconds).
STAMPER='import sys, time
for line in sys.stdin:
    sys.stdout.write("%.6f %s" % (time.time(), line))
    sys.stdout.flush()'

PIDS=()
stop_pid() { # pid, seconds
    local pid=$1 secs=${2:-30} i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -INT "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    echo "pid $pid did not stop after SIGINT within ${secs}s; sending SIGTERM" >&2
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}
RUN_PID=""
RUN_RC=""
cleanup() {
    local rc=$? p
    # Readers first, then the pipeline (it hosts the broker they read from).
    for p in "${PIDS[@]}"; do stop_pid "$p" 5; done
    if [[ -n $RUN_PID ]]; then stop_pid "$RUN_PID" 60; fi
    wait 2>/dev/null || true
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat > "$WORK/run.toml" <<EOF
data_dir = "$WORK/data"
host_name = "$HOST"

[kafka]
embedded_port = $PORT

[metrics]
listen = "127.0.0.1:$METRICS_PORT"

[[logs.inputs]]
paths = ["$APP_LOG"]
start_at = "end"
scan_interval = "100ms"

[processors]
default_rules = false

[[rules]]
name = "bench_error"
source = "logs"
where = 'log.level == "error"'
group_by = ["host.name", "message"]
aggregate = "count()"
op = ">="
threshold = 1
window = "$WINDOW"
severity = "critical"
summary = "probe {{message}}"

[sinks]
console_alerts = true
EOF

# See ship.sh: background jobs start with SIGINT ignored, and .NET keeps that; env restores the default.
RUN_CMD="env --default-signal=INT dotnet $DLL run --config $WORK/run.toml"
$RUN_CMD 2> "$WORK/run.err" > >("$PY" -u -c "$STAMPER" > "$WORK/console.out") &
RUN_PID=$!
B=127.0.0.1:$PORT
for ((i = 0; i < 600; i++)); do
    grep -q 'stream processors: RUNNING' "$WORK/run.err" 2>/dev/null && grep -q 'tailing ' "$WORK/run.err" && break
    kill -0 "$RUN_PID" 2>/dev/null || { echo "pipeline run exited:" >&2; cat "$WORK/run.err" >&2; exit 1; }
    sleep 0.1
done
grep -q 'stream processors: RUNNING' "$WORK/run.err" || { echo "processors not RUNNING after 60 s" >&2; tail -n 20 "$WORK/run.err" >&2; exit 1; }

KCAT_CMD="kcat -C -b $B -t ops.alerts.v1 -o end -u"
start_reader() { # name, kcat args...
    local name=$1; shift
    kcat "$@" -f '%s\n' 2> "$WORK/$name.err" > >("$PY" -u -c "$STAMPER" > "$WORK/$name.out") &
    PIDS+=($!)
}
start_reader kcat -C -b "$B" -t ops.alerts.v1 -o end -u
start_reader kcat-10ms -C -b "$B" -t ops.alerts.v1 -o end -u -X fetch.wait.max.ms=10
start_reader logs -C -b "$B" -t ops.logs.v1 -o end -u -X fetch.wait.max.ms=10
# Wait until every reader has its partitions assigned (kcat prints "Reached end of topic" at the end offset).
for name in kcat kcat-10ms logs; do
    for ((i = 0; i < 100; i++)); do grep -q 'Reached end of topic' "$WORK/$name.err" 2>/dev/null && break; sleep 0.1; done
done

# How many of the three readers have printed something with this probe id (one grep per poll).
seen_by() { grep -l -F -- "probe=$1" "$WORK/kcat.out" "$WORK/kcat-10ms.out" "$WORK/console.out" 2>/dev/null | wc -l; }
send() { # id
    local line
    line="$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) ERROR [checkout-7] payment provider timed out after 3 retries probe=$1"
    printf '%s\t%s\n' "$1" "$EPOCHREALTIME" >> "$WORK/appends.tsv"
    printf '%s\n' "$line" >> "$APP_LOG"
}
wait_for() { # id, seconds: until every reader has the firing alert (the first alert of a group is its firing one)
    local id=$1 secs=$2 i
    for ((i = 0; i < secs * 50; i++)); do
        (( $(seen_by "$id") == 3 )) && return 0
        sleep 0.02
    done
    return 1
}

echo "warm-up: $WARMUP sample(s)" >&2
for ((s = 1; s <= WARMUP; s++)); do
    id="w$s-$RANDOM$RANDOM"
    send "$id"
    wait_for "$id" 60 || { echo "no alert for warm-up sample $id within 60 s" >&2; tail -n 20 "$WORK/run.err" >&2; exit 1; }
    sleep 0.5
done
echo "measuring: $SAMPLES sample(s)" >&2
missing=0
for ((s = 1; s <= SAMPLES; s++)); do
    id="s$s-$RANDOM$RANDOM"
    send "$id"
    if ! wait_for "$id" 20; then echo "sample $id: no alert within 20 s" >&2; missing=$((missing + 1)); fi
    sleep "$(awk -v g="$GAP_MS" -v j="$((RANDOM % 100))" 'BEGIN {printf "%.3f", (g + j) / 1000}')"
done
# Every group should also resolve: its 2 s window closes, plus 1 s grace, checked every evaluation_interval (1 s).
for ((i = 0; i < 100; i++)); do
    (( $(grep -c -F -- "resolved: probe" "$WORK/console.out" || true) >= WARMUP + SAMPLES )) && break
    sleep 0.1
done

problems=$(grep -c -E '"LogLevel":"(Warning|Error|Critical)"' "$WORK/run.err" || true)
{
    echo "# bench/latency.sh  $STAMP"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "$(dotnet "$DLL" version)"
    echo "kcat: $(kcat -V 2>&1 | grep -m1 '^Version')"
    echo "pipeline: $RUN_CMD"
    echo "reader:   $KCAT_CMD   (also: the same with -X fetch.wait.max.ms=10, and the console lines of pipeline run)"
    echo "samples: $SAMPLES measured after $WARMUP warm-up, ~${GAP_MS} ms apart; rule count() >= 1, window $WINDOW, group_by [host.name, message]"
    echo
} | tee "$REPORT"

"$PY" - "$WORK" "$WARMUP" "$WINDOW" <<'PYEOF' | tee -a "$REPORT"
import json, re, statistics, sys
from datetime import datetime
work, warmup, window = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def iso(ts):  # .NET writes 7 fractional digits and +00:00
    m = re.match(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", ts)
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{'+00:00' if m.group(3) == 'Z' else m.group(3)}").timestamp()

appends = {}
for line in open(f"{work}/appends.tsv"):
    pid, t = line.split()
    appends[pid] = float(t)

def probe_of(text):
    m = re.search(r"probe=([A-Za-z0-9-]+)", text)
    return m.group(1) if m else None

def read_json(name):
    out = {}
    for line in open(f"{work}/{name}.out"):
        t, _, payload = line.partition(" ")
        try:
            doc = json.loads(payload)
        except ValueError:
            continue
        yield float(t), doc

firing_read, fired_at = {"kcat": {}, "kcat-10ms": {}}, {}
statuses = {}  # pid -> list of statuses, as kcat-10ms read them
for name in firing_read:
    for t, doc in read_json(name):
        a = doc.get("alert", {})
        pid = probe_of(a.get("group", {}).get("message", ""))
        if pid is None:
            continue
        if name == "kcat-10ms":
            statuses.setdefault(pid, []).append(a.get("status"))
        if a.get("status") == "firing":
            firing_read[name].setdefault(pid, t)
            fired_at[pid] = iso(doc["@timestamp"])
tailed = {}
for t, doc in read_json("logs"):
    pid = probe_of(doc.get("message", ""))
    if pid:
        tailed[pid] = (iso(doc["@timestamp"]), t)
console = {}
for line in open(f"{work}/console.out"):
    t, _, text = line.partition(" ")
    if "FIRING" in text and (pid := probe_of(text)):
        console.setdefault(pid, float(t))

measured = [p for p in appends if p.startswith("s")]
def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q  # linear interpolation between closest ranks
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)
def row(label, xs, note=""):
    xs = [x * 1000 for x in xs]
    if not xs:
        print(f"  {label:<50} no data"); return
    print(f"  {label:<50} n={len(xs):>3}  median {pct(xs, .5):7.0f} ms  p90 {pct(xs, .9):7.0f}  p99 {pct(xs, .99):7.0f}  min {min(xs):6.0f}  max {max(xs):6.0f}  {note}")

print("append -> firing alert read (raw; the rule fires on the crossing record, so no window is subtracted):")
for name, label in (("kcat", "kcat -C ... -o end -u (default fetch wait)"), ("kcat-10ms", "kcat ... -X fetch.wait.max.ms=10")):
    row(label, [firing_read[name][p] - appends[p] for p in measured if p in firing_read[name]])
row("console line printed by pipeline run", [console[p] - appends[p] for p in measured if p in console])
print()
print("stage split (pipeline's own @timestamps; same clock):")
row("append -> tailer read the line (log @timestamp)", [tailed[p][0] - appends[p] for p in measured if p in tailed])
row("tailer read -> rule fired (alert @timestamp)", [fired_at[p] - tailed[p][0] for p in measured if p in tailed and p in fired_at])
row("rule fired -> kcat read (default fetch wait)", [firing_read["kcat"][p] - fired_at[p] for p in measured if p in fired_at and p in firing_read["kcat"]])
row("rule fired -> kcat read (fetch.wait.max.ms=10)", [firing_read["kcat-10ms"][p] - fired_at[p] for p in measured if p in fired_at and p in firing_read["kcat-10ms"]])
row("(append -> log event read back by kcat)", [tailed[p][1] - appends[p] for p in measured if p in tailed])
print()
lost = [p for p in measured if p not in firing_read["kcat"]]
print(f"firing alerts for measured samples: kcat {len([p for p in measured if p in firing_read['kcat']])}/{len(measured)}, "
      f"kcat-10ms {len([p for p in measured if p in firing_read['kcat-10ms']])}/{len(measured)}, console {len([p for p in measured if p in console])}/{len(measured)}"
      + (f"; missing: {' '.join(lost)}" if lost else ""))
clean = [p for p in appends if statuses.get(p) == ["firing", "resolved"]]
odd = {p: statuses.get(p) for p in appends if statuses.get(p) != ["firing", "resolved"]}
print(f"alert lifecycle per probe (all {len(appends)} incl. warm-up), as read from ops.alerts.v1: exactly one firing then one resolved: {len(clean)}/{len(appends)}"
      + (f"; others: {odd}" if odd else ""))
PYEOF

{
    echo "samples without an alert within 20 s: $missing"
    echo "warnings/errors in the pipeline's log: $problems"
    grep -E '"LogLevel":"(Warning|Error|Critical)"' "$WORK/run.err" | head -n 10 | cut -c1-400 | sed 's/^/    /' || true
    echo "report: $REPORT"
} | tee -a "$REPORT"
