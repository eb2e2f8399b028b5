#!/usr/bin/env bash
# Startup time and idle footprint of the single-file `pipeline` binary (build/publish.sh), for
# bench/RESULTS.md "## Startup and footprint".
#
#   bench/startup.sh [BINARY] [RUNS]        # default artifacts/pipeline, 20 runs
#
# Prints: the binary's size; wall and CPU time of `pipeline version` (median and min of RUNS, after one
# warm-up run that extracts the bundled native libraries); and the RSS of an idle agent (metrics on, one
# tailed file, publishing to a `pipeline broker` in another process) after 20 s, split into anonymous
# memory and file-backed pages (the mapped binary and librdkafka: clean, shared, reclaimable).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(realpath "${1:-artifacts/pipeline}")
runs=${2:-20}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "binary: $binary ($(du -m "$binary" | cut -f1) MiB)"
"$binary" version >/dev/null # first run extracts the native libraries
walls=() cpus=()
for _ in $(seq "$runs"); do
  # %e wall seconds, %U+%S CPU seconds
  read -r wall user sys < <({ /usr/bin/time -f "%e %U %S" "$binary" version >/dev/null; } 2>&1)
  walls+=("$(awk "BEGIN{print $wall*1000}")")
  cpus+=("$(awk "BEGIN{print ($user+$sys)*1000}")")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{printf "median %d ms, min %d ms", a[int((NR+1)/2)], a[1]}'; }
echo "pipeline version: wall $(stats "${walls[@]}"); CPU $(stats "${cpus[@]}") ($runs runs; load average $(cut -d' ' -f1 /proc/loadavg))"

mkdir -p "$work/logs"
echo "first line" >"$work/logs/app.log"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cat >"$work/broker.toml" <<TOML
data_dir = "$work/data"
[metrics]
listen = ""
TOML
cat >"$work/agent.toml" <<TOML
data_dir = "$work/data"
[metrics]
listen = "127.0.0.1:$(port)"
[[logs.inputs]]
paths = ["$work/logs/*.log"]
TOML
"$binary" broker --config "$work/broker.toml" >"$work/broker.out" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -s "$work/data/bootstrap" ] && break; sleep 0.2; done
"$binary" agent --config "$work/agent.toml" >"$work/agent.out" 2>&1 & agent=$!; pids+=($agent)
sleep 20
grep -q "tailing $work/logs/app.log" "$work/agent.out" || { echo "the agent did not start tailing:"; tail -5 "$work/agent.out"; exit 1; }
status() { awk -v k="$1:" '$1==k{print int($2/1024)}' "/proc/$agent/status"; }
echo "idle agent after 20 s: RSS $(status VmRSS) MiB (anonymous $(status RssAnon) MiB, file-backed $(status RssFile) MiB, shared memory $(status RssShmem) MiB); peak $(status VmHWM) MiB"
