#!/usr/bin/env bash
# Steady-state cost of shipping logs: a writer appends ~120 B lines at a fixed rate for SECS seconds, and
# each shipper tails the file into the same `pipeline broker`, one after the other:
#   agent     pipeline agent (defaults, /metrics on), the process sampler included as shipped
#   agent+3f  the same agent with bench/logs.sh's 3-filter chain (dissect, redact, add_fields)
#   rsyslog   rsyslog imfile (inotify) -> omkafka (Debian rsyslog-kafka), configured as in bench/logs.sh
# What an SRE sizes a host by: CPU as a share of one core, resident memory over time (median of the second
# half, and the peak), and that every line arrived.
#
#   bash bench/logs-steady.sh                   # from the repo root
#   RATE=100000 SECS=90 bash bench/logs-steady.sh
#
# Environment: RATE=20000 lines/s, SECS=60, BROKER_PORT=39492 (agent /metrics on BROKER_PORT+1),
# NO_BUILD=1 skips `dotnet build -c Release`, SKIP_RSYSLOG=1 leaves rsyslog out.
# Needs: kcat, Debian's /usr/bin/python3, rsyslog + rsyslog-kafka (apt-get install -y kcat rsyslog-kafka).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source bench/log-shippers.sh
RATE=${RATE:-20000}
SECS=${SECS:-60}
BROKER_PORT=${BROKER_PORT:-39492}
PY=/usr/bin/python3
DLL=$ROOT/cli/Pipeline.Cli/bin/Release/net10.0/pipeline.dll
TICK=$(getconf CLK_TCK)
OUT=$ROOT/bench/out/logs-steady
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$OUT/work-$STAMP
REPORT=$OUT/steady-$STAMP.txt
mkdir -p "$WORK"
for tool in kcat "$PY" dotnet; do command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }; done
if [[ ${SKIP_RSYSLOG:-0} != 1 ]] && ! { command -v rsyslogd >/dev/null && [[ -f /usr/lib/x86_64-linux-gnu/rsyslog/omkafka.so ]]; }; then
    echo "missing rsyslog with omkafka (apt-get install -y rsyslog-kafka), or set SKIP_RSYSLOG=1" >&2; exit 1
fi
[[ ${NO_BUILD:-0} == 1 ]] || dotnet build -c Release cli/Pipeline.Cli -nologo -v q -clp:ErrorsOnly
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT

mkdir -p "$WORK/broker"
printf 'data_dir = "%s"\n[kafka]\nembedded_port = %s\n[metrics]\nlisten = ""\n' "$WORK/broker" "$BROKER_PORT" >"$WORK/broker/broker.toml"
env --default-signal=INT dotnet "$DLL" broker --config "$WORK/broker/broker.toml" >"$WORK/broker/out.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 600); do [[ -s $WORK/broker/bootstrap ]] && break; sleep 0.1; done
B=$(cat "$WORK/broker/bootstrap")
echo warmup | kcat -P -b "$B" -t bench.rsyslog -k warm 2>/dev/null

topic_total() { # topic partitions -> sum of end offsets
    local args=(); for p in $(seq 0 $(($2 - 1))); do args+=(-t "$1:$p:-1"); done
    kcat -Q -b "$B" "${args[@]}" 2>/dev/null | awk '{ s += $NF } END { print s + 0 }'
}

# Appends RATE lines/s of ~120 B (seeded, like an application log) to $1 for SECS seconds; prints the count.
write_steadily() {
    "$PY" - "$1" "$RATE" "$SECS" <<'EOF'
import random, sys, time
dst, rate, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(20261128)
levels = ["INFO"] * 80 + ["WARN"] * 10 + ["DEBUG"] * 7 + ["ERROR"] * 3
per_tick = max(1, rate // 100)
out = open(dst, "ab", buffering=0)
t0 = time.monotonic(); n = 0; ticks = 0
while ticks < secs * 100:
    lines = [f"2026-11-28T12:00:00.000Z {rnd.choice(levels):<5} [worker-{rnd.randint(1, 8)}] GET /api/v1/items status=200 "
             f"took={rnd.randint(1, 900)}ms user=u{rnd.randint(1000, 9999)} req={n + i:08x}"[:119].ljust(119) + "\n"
             for i in range(per_tick)]
    out.write("".join(lines).encode()); n += per_tick; ticks += 1
    wait = t0 + ticks / 100 - time.monotonic()
    if wait > 0: time.sleep(wait)
print(n)
EOF
}

RESULTS=$WORK/results.tsv
echo -e "shipper\tlines\tdelivered\tcpu_s\tcpu_pct_of_core\trss_median_mib\trss_peak_mib" >"$RESULTS"

# run NAME TOPIC PARTITIONS START-COMMAND...: starts the shipper, writes, waits for every line, samples RSS each second.
run() {
    local name=$1 topic=$2 parts=$3; shift 3
    local dir=$WORK/$name base; base=$(topic_total "$topic" "$parts")
    "$@" >"$dir/out.log" 2>&1 &
    local pid=$!; PIDS+=("$pid")
    sleep 3 # up and watching before the first line
    local cpu0; cpu0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    write_steadily "$dir/logs/app.log" >"$dir/written" &
    local writer=$!
    : >"$dir/rss"
    while kill -0 "$writer" 2>/dev/null; do awk '/VmRSS/ { print $2 / 1024 }' "/proc/$pid/status" >>"$dir/rss"; sleep 1; done
    local written delivered=0; written=$(cat "$dir/written")
    for _ in $(seq 1 300); do delivered=$(( $(topic_total "$topic" "$parts") - base )); (( delivered >= written )) && break; sleep 0.1; done
    local cpu; cpu=$(awk -v c0="$cpu0" -v t="$TICK" '{ printf "%.2f", ($14 + $15 - c0) / t }' "/proc/$pid/stat")
    local peak; peak=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
    local median; median=$(awk -v n="$(wc -l <"$dir/rss")" 'NR > n / 2' "$dir/rss" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] }')
    kill -TERM "$pid"; wait "$pid" || true
    echo -e "$name\t$written\t$delivered\t$cpu\t$(awk -v c="$cpu" -v s="$SECS" 'BEGIN { printf "%.1f", 100 * c / s }')\t$median\t$peak" >>"$RESULTS"
}

echo "broker $B; $RATE lines/s for $SECS s; load: $(cut -d' ' -f1-3 /proc/loadavg)"
run_agent() { # name, filters (0/1)
    local name=$1 dir=$WORK/$1
    mkdir -p "$dir/logs"
    cp "$WORK/broker/bootstrap" "$dir/bootstrap"
    agent_toml "$dir" "$2" "$dir/logs/app.log" $((BROKER_PORT + 1)) >"$dir/agent.toml"
    echo "$name..."
    run "$name" ops.logs.v1 6 env --default-signal=INT dotnet "$DLL" agent --config "$dir/agent.toml"
}
run_agent agent 0
run_agent agent+3f 1
if [[ ${SKIP_RSYSLOG:-0} != 1 ]]; then
    mkdir -p "$WORK/rsyslog/logs" "$WORK/rsyslog/work"
    : >"$WORK/rsyslog/logs/app.log"
    rsyslog_conf "$WORK/rsyslog/work" "$WORK/rsyslog/logs/app.log" "$B" >"$WORK/rsyslog/rsyslog.conf"
    echo "rsyslog..."
    run rsyslog bench.rsyslog 4 rsyslogd -n -f "$WORK/rsyslog/rsyslog.conf" -i "$WORK/rsyslog/rsyslog.pid"
fi

{
    echo "bench/logs-steady.sh  $STAMP  $(nproc) cores  commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (dirty)')"
    echo "$RATE lines/s of ~120 B for $SECS s; load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    column -t -s $'\t' "$RESULTS"
    echo
    awk -F'\t' 'NR > 1 { cpu[$1] = $5; rss[$1] = $6; lost[$1] = $2 - $3 }
        END {
            for (s in lost) printf "%-8s lines not delivered: %d\n", s, lost[s]
            if ("rsyslog" in cpu && cpu["rsyslog"] > 0) {
                printf "agent / rsyslog CPU %.2f, RSS (median) %.2f\n", cpu["agent"] / cpu["rsyslog"], rss["agent"] / rss["rsyslog"]
                printf "agent+3f / rsyslog CPU %.2f\n", cpu["agent+3f"] / cpu["rsyslog"]
            }
        }' "$RESULTS"
} | tee "$REPORT"
echo "report: $REPORT"
