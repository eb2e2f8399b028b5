#!/usr/bin/env bash
# Shipping throughput: `pipeline agent` tailing a 1,000,000-line file into the embedded broker, side by
# side with `kcat -P -l` producing the same file to the same broker, on the same machine.
#
#   bash bench/ship.sh                 # from the repo root; RUNS=3 by default
#   RUNS=5 bash bench/ship.sh
#
# Environment:
#   RUNS=3            runs of each variant (interleaved: kcat, kcat-json, agent, kcat, ...)
#   LINES=1000000     lines in the generated file (cached in bench/out/)
#   BROKER_PORT=39192 fixed embedded_port of the one `pipeline broker`; the agent's /metrics uses BROKER_PORT+1
#   KCAT_JSON=1       also run kcat on a file of pre-encoded JSON records shaped like the agent's (same bytes on the wire)
#   NO_BUILD=1        skip `dotnet build`
#   RESTART_CHECK=1   after the runs, restart the last agent on its data_dir for 5 s: it must re-send nothing
#   AGENT_EXTRA_TOML  appended to the agent's config, for A/B experiments, e.g.
#                     AGENT_EXTRA_TOML=$'[kafka.properties]\n"linger.ms" = "20"' RUNS=1 KCAT_JSON=0 bash bench/ship.sh
#
# Needs (Debian): kcat, time (/usr/bin/time), coreutils >= 8.31 (env --default-signal), mawk or gawk,
# python3 (/usr/bin/python3, stdlib only, for the summary), curl. `apt-get install -y kcat time curl`.
#
# What is measured, per run:
#   kcat:  /usr/bin/time -f '%e %U %S %M' kcat -P -b B -t bench.kcat -k benchhost -l FILE
#          wall = process start to exit (kcat flushes, i.e. waits for every ack, before exiting),
#          CPU = user+sys, RSS = max RSS. The constant key puts every line on ONE partition, like the
#          agent (which keys by host name). bench.kcat is auto-created by the mock broker with 4 partitions
#          (a warm-up message creates it before the first run; only one partition receives data).
#   agent: `pipeline agent` with its own data_dir (the broker's bootstrap file copied into it, so it runs
#          with the embedded-broker client settings), one [[logs.inputs]] on FILE, start_at="beginning".
#          wall = launch to the first 100 ms poll at which the sum of ops.logs.v1 end offsets has grown by
#          LINES (kcat -Q; the time is taken when that poll starts, so resolution is about one poll period,
#          ~0.1-0.2 s). ship = first poll that saw any line to that same poll (shipping phase without
#          .NET startup and Kafka connect). CPU = utime+stime from /proc/PID/stat and RSS = VmHWM from
#          /proc/PID/status, both read before the agent is stopped with SIGINT.
#   broker CPU: utime+stime the broker process spent during the run (it does the mock's work for both).
# Counts are checked by end offsets (never by reading back: the mock keeps only ~5 MiB per partition).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/bench/out
RUNS=${RUNS:-3}
LINES=${LINES:-1000000}
BROKER_PORT=${BROKER_PORT:-39192}
AGENT_METRICS_PORT=$((BROKER_PORT + 1))
KCAT_JSON=${KCAT_JSON:-1}
PY=/usr/bin/python3
DLL=$ROOT/cli/Pipeline.Cli/bin/Release/net10.0/pipeline.dll
HOST=benchhost
TICK=$(getconf CLK_TCK)

for tool in kcat /usr/bin/time curl "$PY" dotnet awk; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y kcat time curl python3)" >&2; exit 1; }
done
env --default-signal=INT true 2>/dev/null || { echo "env --default-signal needs coreutils >= 8.31" >&2; exit 1; }

if [[ ${NO_BUILD:-0} != 1 ]]; then
    echo "building the CLI (Release)..."
    dotnet build -c Release cli/Pipeline.Cli -nologo -v q -clp:ErrorsOnly
fi
[[ -f $DLL ]] || { echo "no $DLL; build failed?" >&2; exit 1; }

mkdir -p "$OUT"
FILE=$OUT/lines-$LINES.log
JSONFILE=$OUT/lines-$LINES.json

# ---------------------------------------------------------------------------------------------------
# Test data: realistic application log lines, ~120 bytes each, ~3% ERROR, deterministic (seeded).
#   2026-11-18T11:06:40.001Z INFO  [worker-5] GET /api/v1/orders status=200 dur_ms=73 req=8d0b7750 bytes=56464 user=u74326
#   2026-11-18T11:06:40.017Z ERROR [worker-2] upstream call failed: connection reset by peer host=db-03 req=1f0c55e2 retry=1 svc=api
# ---------------------------------------------------------------------------------------------------
if [[ ! -s $FILE ]]; then
    echo "generating $FILE ($LINES lines)..."
    awk -v N="$LINES" 'BEGIN {
      srand(42);
      split("INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO WARN WARN DEBUG DEBUG DEBUG", lv, " ");
      split("GET POST PUT DELETE", meth, " ");
      split("/api/v1/orders /api/v1/users /api/v1/items /api/v2/search /healthz /api/v1/cart", paths, " ");
      t0 = 1795000000;
      for (i = 0; i < N; i++) {
        ts = strftime("%Y-%m-%dT%H:%M:%S", t0 + int(i / 1000), 1) sprintf(".%03dZ", i % 1000);
        if (rand() < 0.03)
          printf "%s ERROR [worker-%d] upstream call failed: connection reset by peer host=db-%02d req=%08x retry=%d svc=api\n", ts, int(rand()*16), int(rand()*8), int(rand()*4294967295), int(rand()*5);
        else
          printf "%s %-5s [worker-%d] %s %s status=%d dur_ms=%d req=%08x bytes=%d user=u%05d\n", ts, lv[1+int(rand()*32)], int(rand()*16), meth[1+int(rand()*4)], paths[1+int(rand()*6)], (rand()<0.95?200:404), int(rand()*900), int(rand()*4294967295), int(rand()*99999), int(rand()*99999);
      }
    }' > "$FILE.tmp"
    mv "$FILE.tmp" "$FILE"
fi
if [[ $KCAT_JSON == 1 && ! -s $JSONFILE ]]; then
    # The same lines wrapped the way the agent encodes them (see LogEventEncoder), ~400 bytes per record with this path,
    # so kcat can also be measured shipping the same bytes the agent ships.
    echo "generating $JSONFILE (agent-shaped JSON records)..."
    awk -v path="$FILE" -v host="$HOST" 'BEGIN { srand(7); off = 0 }
      { lvl = tolower($2);
        printf "{\"@timestamp\":\"2026-11-27T12:38:07.4873200+00:00\",\"event\":{\"kind\":\"event\",\"dataset\":\"ops.logs\",\"id\":\"%08x%08x%08x%08x\"},\"host\":{\"name\":\"%s\"},\"log\":{\"file\":{\"path\":\"%s\"},\"offset\":%d,\"level\":\"%s\"},\"message\":\"%s\"}\n",
          int(rand()*4294967295), int(rand()*4294967295), int(rand()*4294967295), int(rand()*4294967295), host, path, off, lvl, $0;
        off += length($0) + 1 }' "$FILE" > "$JSONFILE.tmp"
    mv "$JSONFILE.tmp" "$JSONFILE"
fi

WORK=$OUT/ship-work
rm -rf "$WORK"
mkdir -p "$WORK"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
REPORT=$OUT/ship-$STAMP.txt
ROWS=$WORK/rows.tsv
: > "$ROWS"

# ---------------------------------------------------------------------------------------------------
# Processes we start, and their cleanup.
# ---------------------------------------------------------------------------------------------------
BROKER_PID=""
AGENT_PID=""
stop_pid() { # pid, seconds: SIGINT, then SIGTERM, then SIGKILL
    local pid=$1 secs=${2:-30} i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -INT "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    echo "pid $pid did not stop after SIGINT within ${secs}s; sending SIGTERM" >&2
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    stop_pid "$AGENT_PID" 10
    stop_pid "$BROKER_PID" 10
    wait 2>/dev/null || true
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
now() { date +%s.%N; }

# ---------------------------------------------------------------------------------------------------
# The one broker. Background jobs of a non-interactive shell start with SIGINT ignored, and .NET keeps an
# inherited SIG_IGN for SIGINT (PosixSignalRegistration never fires), so `env --default-signal=INT`
# restores the default disposition; otherwise SIGINT would not stop `pipeline`.
# ---------------------------------------------------------------------------------------------------
cat > "$WORK/broker.toml" <<EOF
data_dir = "$WORK/broker-data"
[kafka]
embedded_port = $BROKER_PORT
[metrics]
listen = ""
EOF
env --default-signal=INT dotnet "$DLL" broker --config "$WORK/broker.toml" > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
B=127.0.0.1:$BROKER_PORT
for ((i = 0; i < 300; i++)); do
    [[ -s $WORK/broker-data/bootstrap ]] && kcat -L -b "$B" -t ops.logs.v1 >/dev/null 2>&1 && break
    kill -0 "$BROKER_PID" 2>/dev/null || { echo "broker exited:" >&2; cat "$WORK/broker.log" >&2; exit 1; }
    sleep 0.1
done
kcat -L -b "$B" -t ops.logs.v1 >/dev/null 2>&1 || { echo "broker not reachable at $B" >&2; exit 1; }

partitions() { kcat -L -b "$B" -t "$1" 2>/dev/null | awk '/ with [0-9]+ partitions/ {print $(NF-1); exit}'; }
# Sum of end offsets of every partition of a topic; -1 when the query failed.
end_offsets() {
    local topic=$1 n=$2 args=() p
    for ((p = 0; p < n; p++)); do args+=(-t "$topic:$p:-1"); done
    { kcat -Q -b "$B" "${args[@]}" 2>/dev/null || true; } | awk -v n="$n" '/ offset / {s += $NF; c++} END {print (c == n ? s : -1)}'
}
per_partition() { # "p:offset p:offset ..."
    local topic=$1 n=$2 args=() p
    for ((p = 0; p < n; p++)); do args+=(-t "$topic:$p:-1"); done
    { kcat -Q -b "$B" "${args[@]}" 2>/dev/null || true; } | awk '/ offset / {gsub(/[\[\]]/, "", $2); printf "%s:%s ", $2, $NF}'
}

# The kcat topics do not exist yet; one message each creates them (4 partitions, the mock's default).
echo warmup | kcat -P -b "$B" -t bench.kcat -k "$HOST"
if [[ $KCAT_JSON == 1 ]]; then echo '{"warmup":true}' | kcat -P -b "$B" -t bench.kcat.json -k "$HOST"; fi
LOGS_PARTS=$(partitions ops.logs.v1)
KCAT_PARTS=$(partitions bench.kcat)

KCAT_CMD="kcat -P -b $B -t bench.kcat -k $HOST -l $FILE"
KCAT_JSON_CMD="kcat -P -b $B -t bench.kcat.json -k $HOST -l $JSONFILE"
AGENT_CMD="env --default-signal=INT dotnet $DLL agent --config $WORK/agent-N/agent.toml"

run_kcat() { # variant topic file run
    local variant=$1 topic=$2 file=$3 run=$4 before after b0 b1
    before=$(end_offsets "$topic" "$KCAT_PARTS")
    b0=$(cpu_ticks "$BROKER_PID")
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/$variant-$run.time" kcat -P -b "$B" -t "$topic" -k "$HOST" -l "$file" 2> "$WORK/$variant-$run.err"
    b1=$(cpu_ticks "$BROKER_PID")
    after=$(end_offsets "$topic" "$KCAT_PARTS")
    local wall user sys rss
    read -r wall user sys rss < <(tail -n 1 "$WORK/$variant-$run.time")
    local errors; errors=$(grep -c -i -E 'error|fail' "$WORK/$variant-$run.err" || true)
    printf '%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n' "$variant" "$run" "$wall" "$wall" \
        "$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')" "$rss" \
        $((after - before)) "$errors" "$(awk -v t="$((b1 - b0))" -v k="$TICK" 'BEGIN {printf "%.2f", t / k}')" "0" "-" >> "$ROWS"
}

run_agent() { # run
    local run=$1 dir=$WORK/agent-$1
    mkdir -p "$dir"
    cp "$WORK/broker-data/bootstrap" "$dir/bootstrap"
    cat > "$dir/agent.toml" <<EOF
data_dir = "$dir"
host_name = "$HOST"
[kafka]
bootstrap = "embedded"
[metrics]
listen = "127.0.0.1:$AGENT_METRICS_PORT"
[[logs.inputs]]
paths = ["$FILE"]
start_at = "beginning"
scan_interval = "100ms"
${AGENT_EXTRA_TOML:-}
EOF
    local base b0 t0 tfirst="" tdone="" t n
    base=$(end_offsets ops.logs.v1 "$LOGS_PARTS")
    [[ $base -ge 0 ]] || { echo "cannot read ops.logs.v1 end offsets" >&2; exit 1; }
    b0=$(cpu_ticks "$BROKER_PID")
    t0=$(now)
    env --default-signal=INT dotnet "$DLL" agent --config "$dir/agent.toml" > "$dir/agent.log" 2>&1 &
    AGENT_PID=$!
    while :; do
        t=$(now)
        n=$(end_offsets ops.logs.v1 "$LOGS_PARTS")
        if (( n > base )) && [[ -z $tfirst ]]; then tfirst=$t; fi
        if (( n - base >= LINES )); then tdone=$t; break; fi
        if ! kill -0 "$AGENT_PID" 2>/dev/null; then echo "agent exited early (run $run):" >&2; tail -n 20 "$dir/agent.log" >&2; exit 1; fi
        if awk -v a="$t" -v b="$t0" 'BEGIN {exit !(a - b > 180)}'; then echo "agent did not ship $LINES lines within 180 s (run $run, $((n - base)) so far)" >&2; exit 1; fi
        sleep 0.1
    done
    local ticks hwm b1 acked
    ticks=$(cpu_ticks "$AGENT_PID")
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$AGENT_PID/status")
    b1=$(cpu_ticks "$BROKER_PID")
    acked=$(curl -s "http://127.0.0.1:$AGENT_METRICS_PORT/metrics" | awk '/^pipeline_events_out_total\{stage="producers.logs",topic="ops.logs.v1"\}/ {print $2}')
    local rc=0 ts te
    ts=$(now)
    stop_pid "$AGENT_PID" 60
    wait "$AGENT_PID" || rc=$?
    te=$(now)
    AGENT_PID=""
    echo "$(awk -v a="$te" -v b="$ts" 'BEGIN {printf "%.2f", a - b}')" > "$dir/stop-seconds"
    # The checkpoint must record the whole file as acknowledged.
    local ckpt size
    ckpt=$(grep -o '"offset": *[0-9]*' "$dir/checkpoints/logs.json" 2>/dev/null | grep -o '[0-9]*$' || echo none)
    size=$(stat -c %s "$FILE")
    if [[ $ckpt == "$size" ]]; then echo "run $run: checkpoint offset == file size ($size): ok" >> "$WORK/checks.txt"
    else echo "run $run: checkpoint offset $ckpt != file size $size" | tee -a "$WORK/checks.txt" >&2; fi
    local total partsnow problems
    total=$(( $(end_offsets ops.logs.v1 "$LOGS_PARTS") - base ))
    partsnow=$(per_partition ops.logs.v1 "$LOGS_PARTS")
    echo "$partsnow" > "$dir/partitions.txt"
    problems=$(grep -c -E '"LogLevel":"(Warning|Error|Critical)"' "$dir/agent.log" || true)
    printf '%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n' agent "$run" \
        "$(awk -v a="$tdone" -v b="$t0" 'BEGIN {printf "%.2f", a - b}')" \
        "$(awk -v a="$tdone" -v b="$tfirst" 'BEGIN {printf "%.2f", a - b}')" \
        "$(awk -v t="$ticks" -v k="$TICK" 'BEGIN {printf "%.2f", t / k}')" "$hwm" "$total" "$problems" \
        "$(awk -v t="$((b1 - b0))" -v k="$TICK" 'BEGIN {printf "%.2f", t / k}')" "$rc/$(cat "$dir/stop-seconds")s" "${acked:-?}" >> "$ROWS"
}

{
    echo "# bench/ship.sh  $STAMP"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "$(dotnet "$DLL" version)"
    echo "kcat: $(kcat -V 2>&1 | grep -m1 '^Version')"
    echo "file: $FILE: $(wc -l < "$FILE") lines, $(wc -c < "$FILE") bytes ($(awk '{s += length($0) + 1} END {printf "%.1f", s / NR}' "$FILE") bytes/line), $(grep -c ' ERROR ' "$FILE") ERROR lines"
    if [[ $KCAT_JSON == 1 ]]; then echo "json: $JSONFILE: $(wc -c < "$JSONFILE") bytes ($(awk '{s += length($0) + 1} END {printf "%.1f", s / NR}' "$JSONFILE") bytes/record)"; fi
    echo "broker: env --default-signal=INT dotnet $DLL broker --config $WORK/broker.toml   (bootstrap $B, ops.logs.v1 has $LOGS_PARTS partitions, bench.kcat $KCAT_PARTS)"
    echo
} | tee "$REPORT"

for ((r = 1; r <= RUNS; r++)); do
    echo "run $r/$RUNS: kcat" >&2
    run_kcat kcat bench.kcat "$FILE" "$r"
    if [[ $KCAT_JSON == 1 ]]; then
        echo "run $r/$RUNS: kcat-json" >&2
        run_kcat kcat-json bench.kcat.json "$JSONFILE" "$r"
    fi
    echo "run $r/$RUNS: agent" >&2
    run_agent "$r"
done

# Restart check: the last agent's data_dir again; its checkpoint says everything was delivered, so a
# restart must ship nothing (a duplicate would show as growing end offsets).
if [[ ${RESTART_CHECK:-1} == 1 ]]; then
    echo "restart check: agent-$RUNS again for 5 s" >&2
    before=$(end_offsets ops.logs.v1 "$LOGS_PARTS")
    env --default-signal=INT dotnet "$DLL" agent --config "$WORK/agent-$RUNS/agent.toml" > "$WORK/agent-$RUNS/restart.log" 2>&1 &
    AGENT_PID=$!
    sleep 5
    stop_pid "$AGENT_PID" 60
    wait "$AGENT_PID" || true
    AGENT_PID=""
    after=$(end_offsets ops.logs.v1 "$LOGS_PARTS")
    echo "restart check: $((after - before)) line(s) re-sent after a clean stop (expect 0); $(grep -o 'log tailer stopped: [0-9]* lines delivered' "$WORK/agent-$RUNS/restart.log" || echo 'no stop line')" | tee -a "$WORK/checks.txt"
fi

"$PY" - "$ROWS" "$LINES" <<'PYEOF' | tee -a "$REPORT"
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
lines = int(sys.argv[2])
print(f"{'variant':<10} {'run':>3} {'wall s':>7} {'lines/s':>10} {'ship s':>7} {'ship l/s':>10} {'CPU s':>6} {'RSS MiB':>8} {'delivered':>10} {'warn/err':>8} {'broker CPU s':>12} {'exit/stop':>10} {'acked(metric)':>13}")
by = {}
for v, run, wall, ship, cpu, rss, total, problems, bcpu, rc, acked in rows:
    wall, ship, cpu, rss, bcpu = float(wall), float(ship), float(cpu), int(rss) / 1024, float(bcpu)
    print(f"{v:<10} {run:>3} {wall:>7.2f} {lines / wall:>10,.0f} {ship:>7.2f} {lines / ship if ship else float('nan'):>10,.0f} {cpu:>6.2f} {rss:>8.1f} {int(total):>10,} {problems:>8} {bcpu:>12.2f} {rc:>10} {acked:>13}")
    by.setdefault(v, []).append((wall, ship, cpu, rss, bcpu, int(total)))
print()
med = {}
print("medians:")
for v, xs in by.items():
    m = [statistics.median(col) for col in zip(*xs)]
    med[v] = m
    ok = all(x[5] == lines for x in xs)
    best = min(x[0] for x in xs)
    print(f"  {v:<10} wall {m[0]:.2f} s = {lines / m[0]:,.0f} lines/s (best run {best:.2f} s = {lines / best:,.0f} lines/s; shipping phase {m[1]:.2f} s = {lines / m[1]:,.0f} lines/s); "
          f"CPU {m[2]:.2f} s = {m[2] / lines * 1e6:.2f} us/line; peak RSS {m[3]:.1f} MiB; broker CPU {m[4]:.2f} s; "
          f"every run delivered exactly {lines:,}: {'yes' if ok else 'NO'}")
if "agent" in med and "kcat" in med:
    a, k = med["agent"], med["kcat"]
    print()
    print("ratios, pipeline agent / kcat (medians):")
    print(f"  throughput (lines/s, wall from launch):      {k[0] / a[0]:.3f}  (kcat is {a[0] / k[0]:.1f}x faster)")
    ka, aa = min(x[0] for x in by["kcat"]), min(x[0] for x in by["agent"])
    print(f"  throughput, best run of each:                {ka / aa:.3f}  (less sensitive to other load on the machine)")
    print(f"  throughput (lines/s, agent shipping phase):  {k[0] / a[1]:.3f}")
    print(f"  CPU seconds:                                 {a[2] / k[2]:.1f}x")
    print(f"  peak RSS:                                    {a[3] / k[3]:.1f}x")
    if "kcat-json" in med:
        j = med["kcat-json"]
        print(f"  vs kcat-json (agent-shaped ~400 B JSON records): throughput {j[0] / a[0]:.3f} (shipping phase {j[0] / a[1]:.3f}), CPU {a[2] / j[2]:.1f}x, RSS {a[3] / j[3]:.1f}x")
PYEOF

{
    echo
    echo "commands:"
    echo "  kcat:      /usr/bin/time -f '%e %U %S %M' $KCAT_CMD"
    if [[ $KCAT_JSON == 1 ]]; then echo "  kcat-json: /usr/bin/time -f '%e %U %S %M' $KCAT_JSON_CMD"; fi
    echo "  agent:     $AGENT_CMD   (stopped with SIGINT once the end offsets reached +$LINES)"
    echo "  done when: kcat -Q -b $B -t ops.logs.v1:0:-1 ... -t ops.logs.v1:$((LOGS_PARTS - 1)):-1 (summed, polled every 100 ms)"
    echo "agent config (run 1):"
    sed 's/^/    /' "$WORK/agent-1/agent.toml"
    echo "ops.logs.v1 end offsets after the last run: $(cat "$WORK/agent-$RUNS/partitions.txt")"
    echo "agent warnings/errors (all runs):"
    grep -h -E '"LogLevel":"(Warning|Error|Critical)"' "$WORK"/agent-*/agent.log > "$WORK/agent-problems.txt" || true
    if [[ -s $WORK/agent-problems.txt ]]; then head -n 20 "$WORK/agent-problems.txt" | sed 's/^/    /'; else echo "    none"; fi
    echo "checks:"
    if [[ -s $WORK/checks.txt ]]; then sed 's/^/    /' "$WORK/checks.txt"; else echo "    (none run)"; fi
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "report: $REPORT"
} | tee -a "$REPORT"
