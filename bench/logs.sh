#!/usr/bin/env bash
# Log producer benchmark: 1,000,000 lines of about 120 bytes, from a file into the embedded broker,
# side by side in the same run, against the same `pipeline broker`:
#   kcat      kcat -P -l (the raw producer: each line as it is, close to the client-side limit)
#   kcat-json kcat -P -l on the same lines already wrapped in a JSON envelope shaped like the agent's
#             (~400 B): what the Kafka client alone costs for the bytes the agent really ships
#   agent     pipeline agent, no filters
#   agent+3f  pipeline agent with a 3-filter chain (dissect, redact, add_fields)
#   rsyslog   rsyslog imfile (inotify) -> omkafka (Debian rsyslog-kafka), tuned as in test-peers.md
# and the agent under rotation: the same lines written at a steady rate, with the file renamed and
# recreated every second, against the same writer without rotation.
#
#   bash bench/logs.sh                  # from the repo root; RUNS=3
#   RUNS=5 bash bench/logs.sh
#
# Environment:
#   RUNS=3              runs of each variant, interleaved (kcat, agent, agent+3f, rsyslog, kcat, ...)
#   LINES=1000000       lines in the generated file (cached in bench/out/logs/)
#   RATE=100000         lines/s of the rotation writer (a writer the agent can keep up with, so the
#                       rotation runs measure what rotation costs, not the agent's top speed)
#   BROKER_PORT=39392   embedded_port of the `pipeline broker`; agents' /metrics use BROKER_PORT+1
#   NO_BUILD=1          skip `dotnet build -c Release`
#   SKIP_RSYSLOG=1      leave rsyslog out
#
# Needs: kcat, /usr/bin/time (package time), Debian's /usr/bin/python3, rsyslog + rsyslog-kafka
# (apt-get install -y kcat time rsyslog-kafka).
#
# Measured per run: wall time from process start until every line is in the topic (sum of end offsets,
# polled every 50 ms with kcat -Q: never read back, the mock broker keeps only ~5 MiB per partition);
# CPU = utime+stime of the shipper (from /proc, or /usr/bin/time for kcat); peak RSS = VmHWM. kcat's wall
# time is its whole run (it exits once everything is acknowledged). For the agent and rsyslog, "ship" is
# the time from the first line seen in the topic to the last, without process start-up.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source bench/log-shippers.sh
OUT=$ROOT/bench/out/logs
RUNS=${RUNS:-3}
LINES=${LINES:-1000000}
RATE=${RATE:-100000}
BROKER_PORT=${BROKER_PORT:-39392}
METRICS_PORT=$((BROKER_PORT + 1))
PY=/usr/bin/python3
DLL=$ROOT/cli/Pipeline.Cli/bin/Release/net10.0/pipeline.dll
TICK=$(getconf CLK_TCK)
HOST=$BENCH_HOST

for tool in kcat /usr/bin/time "$PY" dotnet; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y kcat time python3)" >&2; exit 1; }
done
if [[ ${SKIP_RSYSLOG:-0} != 1 ]] && ! { command -v rsyslogd >/dev/null && [[ -f /usr/lib/x86_64-linux-gnu/rsyslog/omkafka.so ]]; }; then
    echo "missing rsyslog with omkafka (apt-get install -y rsyslog-kafka), or set SKIP_RSYSLOG=1" >&2; exit 1
fi
if [[ ${NO_BUILD:-0} != 1 ]]; then
    echo "building the CLI (Release)..."
    dotnet build -c Release cli/Pipeline.Cli -nologo -v q -clp:ErrorsOnly
fi
mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
REPORT=$OUT/logs-$STAMP.txt
WORK=$OUT/work-$STAMP
mkdir -p "$WORK"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# --- input: LINES lines of ~120 bytes, seeded, like an application log -------------------------
FILE=$OUT/lines-$LINES.log
if [[ ! -f $FILE ]]; then
    echo "generating $FILE..."
    "$PY" - "$FILE" "$LINES" <<'EOF'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(20261127)
levels = ["INFO"] * 80 + ["WARN"] * 10 + ["DEBUG"] * 7 + ["ERROR"] * 3
paths = ["/api/v1/items", "/api/v1/orders", "/health", "/api/v2/users/42", "/login", "/static/app.js"]
with open(path, "w") as f:
    for i in range(n):
        ms = i % 1000
        lvl = rnd.choice(levels)
        line = (f"2026-11-27T12:{(i // 60000) % 60:02d}:{(i // 1000) % 60:02d}.{ms:03d}Z {lvl:<5} [worker-{rnd.randint(1, 8)}] "
                f"GET {rnd.choice(paths)} status={rnd.choice([200, 200, 200, 201, 304, 404, 500])} "
                f"took={rnd.randint(1, 900)}ms user=u{rnd.randint(1000, 9999)} req={i:08x}")
        f.write(line[:119].ljust(119) + "\n")
EOF
fi
SIZE=$(stat -c %s "$FILE")
JSONFILE=$OUT/lines-$LINES.json
if [[ ! -f $JSONFILE ]]; then
    echo "generating $JSONFILE..."
    "$PY" - "$FILE" "$JSONFILE" <<'EOF'
import hashlib, json, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src) as f, open(dst, "w") as out:
    offset = 0
    for line in f:
        msg = line.rstrip("\n")
        doc = {"@timestamp": "2026-11-27T12:00:00.000+00:00",
               "event": {"kind": "event", "dataset": "ops.logs", "id": hashlib.md5(f"{offset}{msg}".encode()).hexdigest()},
               "host": {"name": "benchhost"},
               "log": {"file": {"path": src}, "offset": offset, "level": msg.split()[1].lower()},
               "message": msg}
        out.write(json.dumps(doc, separators=(",", ":")) + "\n")
        offset += len(line)
EOF
fi

# --- the broker ---------------------------------------------------------------------------------
mkdir -p "$WORK/broker"
cat >"$WORK/broker/broker.toml" <<EOF
data_dir = "$WORK/broker"
[kafka]
embedded_port = $BROKER_PORT
[metrics]
listen = ""
EOF
env --default-signal=INT dotnet "$DLL" broker --config "$WORK/broker/broker.toml" >"$WORK/broker/out.log" 2>&1 &
BROKER_PID=$!
PIDS+=("$BROKER_PID")
for _ in $(seq 1 600); do [[ -s $WORK/broker/bootstrap ]] && break; sleep 0.1; done
B=$(cat "$WORK/broker/bootstrap")
# The mock broker creates unknown topics on first use, with 4 partitions: create them before timing.
for t in bench.kcat bench.kcat.json bench.rsyslog; do echo warmup | kcat -P -b "$B" -t $t -k warm 2>/dev/null; done

end_offsets() { # topic -> sum of end offsets over its partitions
    local topic=$1 parts=$2 args=()
    for p in $(seq 0 $((parts - 1))); do args+=(-t "$topic:$p:-1"); done
    kcat -Q -b "$B" "${args[@]}" 2>/dev/null | awk '{ s += $NF } END { print s + 0 }'
}
cpu_of() { awk -v t="$TICK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
hwm_of() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
now() { date +%s.%N; }

# Waits until TOPIC has grown by LINES over BASE; prints "first_seen_at done_at".
wait_topic() {
    local topic=$1 parts=$2 base=$3 want=$4 first="" n
    while :; do
        local t; t=$(now)
        n=$(end_offsets "$topic" "$parts")
        [[ -z $first && $n -gt $base ]] && first=$t
        if (( n - base >= want )); then echo "${first:-$t} $t"; return; fi
        sleep 0.05
    done
}

RESULTS=$WORK/results.tsv
echo -e "variant\trun\twall_s\tship_s\tcpu_s\trss_mib\tlines" >"$RESULTS"

run_kcat() { # run [json]
    local run=$1 name=kcat topic=bench.kcat file=$FILE base
    if [[ ${2:-} == json ]]; then name=kcat-json; topic=bench.kcat.json; file=$JSONFILE; fi
    base=$(end_offsets $topic 4)
    /usr/bin/time -o "$WORK/$name-$run.time" -f '%e %U %S %M' kcat -P -b "$B" -t $topic -k $HOST -l "$file" 2>/dev/null
    local n; n=$(end_offsets $topic 4)
    read -r wall user sys rss <"$WORK/$name-$run.time"
    echo -e "$name\t$run\t$wall\t$wall\t$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u+s}')\t$(awk -v r="$rss" 'BEGIN{printf "%.1f", r/1024}')\t$((n - base))" >>"$RESULTS"
}

start_agent() { # dir; sets AGENT_PID (not in a subshell: the script must stay its parent to wait for it)
    local dir=$1
    cp "$WORK/broker/bootstrap" "$dir/bootstrap"
    env --default-signal=INT dotnet "$DLL" agent --config "$dir/agent.toml" >"$dir/out.log" 2>&1 &
    AGENT_PID=$!
    PIDS+=("$AGENT_PID")
}

run_agent() { # run filters
    local run=$1 filters=$2 name=agent
    [[ $filters == 1 ]] && name=agent+3f
    local dir=$WORK/$name-$run
    mkdir -p "$dir"
    agent_toml "$dir" "$filters" "$FILE" "$METRICS_PORT" 100ms >"$dir/agent.toml"
    local base; base=$(end_offsets ops.logs.v1 6)
    local start; start=$(now)
    start_agent "$dir"
    local pid=$AGENT_PID
    read -r first done <<<"$(wait_topic ops.logs.v1 6 "$base" "$LINES")"
    local cpu rss; cpu=$(cpu_of "$pid"); rss=$(hwm_of "$pid")
    kill -TERM "$pid"; wait "$pid" || true
    local n; n=$(end_offsets ops.logs.v1 6)
    echo -e "$name\t$run\t$(awk -v a="$start" -v b="$done" 'BEGIN{printf "%.2f", b-a}')\t$(awk -v a="$first" -v b="$done" 'BEGIN{printf "%.2f", b-a}')\t$cpu\t$rss\t$((n - base))" >>"$RESULTS"
}

run_rsyslog() {
    local run=$1 dir=$WORK/rsyslog-$run
    mkdir -p "$dir/work"
    rsyslog_conf "$dir/work" "$FILE" "$B" >"$dir/rsyslog.conf"
    local base; base=$(end_offsets bench.rsyslog 4)
    local start; start=$(now)
    rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" >"$dir/out.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    read -r first done <<<"$(wait_topic bench.rsyslog 4 "$base" "$LINES")"
    local cpu rss; cpu=$(cpu_of "$pid"); rss=$(hwm_of "$pid")
    kill -TERM "$pid"; wait "$pid" || true
    local n; n=$(end_offsets bench.rsyslog 4)
    echo -e "rsyslog\t$run\t$(awk -v a="$start" -v b="$done" 'BEGIN{printf "%.2f", b-a}')\t$(awk -v a="$first" -v b="$done" 'BEGIN{printf "%.2f", b-a}')\t$cpu\t$rss\t$((n - base))" >>"$RESULTS"
}

# Rotation: a writer appends the same lines at RATE lines/s; with ROTATE=1 it renames the file to
# app.log.N and reopens app.log every second, as logrotate + a reopening application would.
run_rotation() { # run rotate(0/1)
    local run=$1 rotate=$2 name=steady
    [[ $rotate == 1 ]] && name=rotate-1s
    local dir=$WORK/$name-$run
    mkdir -p "$dir/logs"
    agent_toml "$dir" 0 "$dir/logs/app.log" "$METRICS_PORT" 100ms >"$dir/agent.toml"
    local base; base=$(end_offsets ops.logs.v1 6)
    start_agent "$dir"
    local pid=$AGENT_PID
    sleep 2 # the agent is up and watching before the writer starts
    local start; start=$(now)
    "$PY" - "$FILE" "$dir/logs/app.log" "$RATE" "$rotate" <<'EOF' &
import os, sys, time
src, dst, rate, rotate = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
lines = open(src, "rb").read().splitlines(keepends=True)
chunk = max(1, rate // 100)
out = open(dst, "ab", buffering=0)
t0 = time.monotonic(); next_rotation = t0 + 1; n = 0
for i in range(0, len(lines), chunk):
    out.write(b"".join(lines[i:i + chunk]))
    n += 1
    now = time.monotonic()
    if rotate and now >= next_rotation:
        os.rename(dst, f"{dst}.{n}"); out.close(); out = open(dst, "ab", buffering=0); next_rotation += 1
    wait = t0 + n * chunk / rate - time.monotonic()
    if wait > 0: time.sleep(wait)
out.close()
EOF
    local writer=$!
    read -r first done <<<"$(wait_topic ops.logs.v1 6 "$base" "$LINES")"
    wait "$writer"
    local cpu rss; cpu=$(cpu_of "$pid"); rss=$(hwm_of "$pid")
    kill -TERM "$pid"; wait "$pid" || true
    local n; n=$(end_offsets ops.logs.v1 6)
    echo -e "$name\t$run\t$(awk -v a="$start" -v b="$done" 'BEGIN{printf "%.2f", b-a}')\t$(awk -v a="$first" -v b="$done" 'BEGIN{printf "%.2f", b-a}')\t$cpu\t$rss\t$((n - base))" >>"$RESULTS"
}

echo "broker $B; $LINES lines, $SIZE bytes; RUNS=$RUNS; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$RUNS"); do
    echo "run $run: kcat"; run_kcat "$run"; run_kcat "$run" json
    echo "run $run: agent"; run_agent "$run" 0
    echo "run $run: agent+3f"; run_agent "$run" 1
    if [[ ${SKIP_RSYSLOG:-0} != 1 ]]; then echo "run $run: rsyslog"; run_rsyslog "$run"; fi
    echo "run $run: rotation"; run_rotation "$run" 0; run_rotation "$run" 1
done

{
    echo "bench/logs.sh  $STAMP  $(nproc) cores  load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (dirty)'); $(kcat -V 2>/dev/null | grep -o 'Version [^ ]*' | head -1 | sed 's/^/kcat /'); $(rsyslogd -v 2>/dev/null | awk 'NR==1 { print $1, $2 }')"
    echo "$LINES lines, $SIZE bytes ($(awk -v s="$SIZE" -v n="$LINES" 'BEGIN{printf "%.1f", s/n}') B/line); RUNS=$RUNS; rotation writer at $RATE lines/s"
    echo
    cat "$RESULTS"
    echo
    "$PY" - "$RESULTS" "$LINES" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
lines = int(sys.argv[2])
by = {}
for r in rows: by.setdefault(r["variant"], []).append(r)
med = lambda v, k: statistics.median(float(r[k]) for r in by[v]) if v in by else float("nan")
print(f"{'median':<10} {'lines/s':>10} {'wall s':>7} {'ship s':>7} {'CPU s':>6} {'RSS MiB':>8}  all delivered")
for v in by:
    ok = all(int(r["lines"]) == lines for r in by[v])
    print(f"{v:<10} {lines / med(v, 'wall_s'):>10,.0f} {med(v, 'wall_s'):>7.2f} {med(v, 'ship_s'):>7.2f} {med(v, 'cpu_s'):>6.2f} {med(v, 'rss_mib'):>8.1f}  {ok}")
def ratio(a, b, k="wall_s"):
    return med(b, k) / med(a, k) if a in by and b in by else float("nan")
print()
print(f"agent / kcat throughput            {ratio('agent', 'kcat'):.3f}   (goal >= 0.8)")
print(f"agent / kcat-json throughput       {ratio('agent', 'kcat-json'):.3f}   (the same bytes on the wire)")
print(f"CPU per line: kcat {med('kcat', 'cpu_s'):.2f} us, kcat-json {med('kcat-json', 'cpu_s'):.2f} us, agent {med('agent', 'cpu_s'):.2f} us, agent+3f {med('agent+3f', 'cpu_s'):.2f} us, rsyslog {med('rsyslog', 'cpu_s'):.2f} us (x 1M lines = CPU s)")
print(f"CPU ratio agent / kcat             {med('agent', 'cpu_s') / med('kcat', 'cpu_s'):.2f}   agent / kcat-json {med('agent', 'cpu_s') / med('kcat-json', 'cpu_s'):.2f}   rsyslog / agent+3f {med('rsyslog', 'cpu_s') / med('agent+3f', 'cpu_s'):.2f}")
print(f"agent+3f / rsyslog throughput      {ratio('agent+3f', 'rsyslog'):.3f}   (goal >= 2)")
print(f"agent+3f / agent throughput        {ratio('agent+3f', 'agent'):.3f}")
print(f"rotate-1s / steady throughput      {ratio('rotate-1s', 'steady'):.3f}   (writer at a fixed rate: 1.0 = rotation costs nothing)")
print(f"rotate-1s / steady CPU             {med('rotate-1s', 'cpu_s') / med('steady', 'cpu_s'):.3f}")
print(f"peak RSS agent / agent+3f          {med('agent', 'rss_mib'):.0f} / {med('agent+3f', 'rss_mib'):.0f} MiB (goal <= 100 MB)")
EOF
} | tee "$REPORT"
echo "report: $REPORT"
