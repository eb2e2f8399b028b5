#!/usr/bin/env bash
# Process collector benchmarks (issue 3), in one run on one host:
#   1. the cost of one full in-process snapshot (`pipeline ps --bench N`: a new collector each time,
#      so every process is read in full, as ps does) against `ps -eo pid,ppid,user,pcpu,rss,stat,lstart,args`,
#      with 1,000 extra processes running;
#   2. whole-command `pipeline ps` against that ps;
#   3. the agent's CPU use when sampling ~1,000 processes every 10 s, as % of one core over ~60 s.
# Prints a Markdown section for bench/RESULTS.md. Usage: bench/ps.sh [extra_processes] [agent_seconds] [warmup_seconds]
set -euo pipefail
cd "$(dirname "$0")/.."

extra=${1:-1000}
agent_seconds=${2:-60}
warmup=${3:-120}
runs=20
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build -c Release cli/Pipeline.Cli/Pipeline.Cli.csproj -v q -nologo >/dev/null
pipeline=(dotnet cli/Pipeline.Cli/bin/Release/net10.0/pipeline.dll)
work=$(mktemp -d /tmp/pipeline-bench-ps.XXXXXX)

pids=()
cleanup() {
  [ -n "${agent:-}" ] && kill "$agent" 2>/dev/null || true
  [ -n "${broker:-}" ] && kill "$broker" 2>/dev/null || true
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for ((i = 0; i < extra; i++)); do sleep 3600 & pids+=($!); done
sleep 1
total=$(ls -d /proc/[0-9]* | wc -l)

# Wall time of a command, in ms, as the median and minimum of $runs runs.
time_ms() {
  local samples=() t0 t1
  for ((r = 0; r < runs; r++)); do
    # EPOCHREALTIME: the clock without forking date(1) inside the measured interval.
    t0=${EPOCHREALTIME/./}; "$@" >/dev/null; t1=${EPOCHREALTIME/./}
    samples+=($((t1 - t0)))
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f %.1f\n", a[int((NR+1)/2)]/1000, a[1]/1000}'
}

read -r ps_median ps_min < <(time_ms ps -eo pid,ppid,user,pcpu,rss,stat,lstart,args)
bench=$("${pipeline[@]}" ps --bench $runs)
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$bench"; }
read -r cmd_median cmd_min < <(time_ms "${pipeline[@]}" ps)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# Agent overhead: a broker process, then an agent (no log files to tail; metrics off), measured from
# its own utime+stime over $agent_seconds s after $warmup s. The warm-up is long because .NET
# recompiles hot code in the background for the first minutes. The same agent with the process
# sampler off gives the baseline (log tailer, Kafka client, runtime), so the sampler's share is the difference.
mkdir -p "$work/logs"
agent_cpu() { # $1: process.enabled, $2: process.scan_interval; sets $cpu_pct (not a subshell, so the cleanup trap sees the pids)
  rm -rf "$work/data"
  cat >"$work/agent.toml" <<EOF
data_dir = "$work/data"
[metrics]
listen = ""
[[logs.inputs]]
paths = ["$work/logs/*.log"]
[process]
enabled = $1
interval = "10s"
scan_interval = "$2"
EOF
  "${pipeline[@]}" broker --config "$work/agent.toml" >"$work/broker.log" 2>&1 &
  broker=$!
  for _ in $(seq 100); do [ -s "$work/data/bootstrap" ] && break; sleep 0.2; done
  "${pipeline[@]}" agent --config "$work/agent.toml" >"$work/agent.log" 2>&1 &
  agent=$!
  sleep "$warmup"
  local hz c0 c1 t0 t1
  hz=$(getconf CLK_TCK)
  t0=${EPOCHREALTIME/./}; c0=$(awk '{print $14 + $15}' "/proc/$agent/stat")
  sleep "$agent_seconds"
  t1=${EPOCHREALTIME/./}; c1=$(awk '{print $14 + $15}' "/proc/$agent/stat")
  kill "$agent" "$broker"; wait "$agent" "$broker" 2>/dev/null || true
  agent='' broker=''
  cpu_pct=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v us=$((t1 - t0)) 'BEGIN {printf "%.2f", 100 * (c / hz) / (us / 1e6)}')
}
agent_cpu true 1s; agent_pct=$cpu_pct
agent_cpu true 5s; agent5_pct=$cpu_pct
agent_cpu false 1s; baseline_pct=$cpu_pct
sampler_pct=$(awk -v a="$agent_pct" -v b="$baseline_pct" 'BEGIN {printf "%.2f", a - b}')
sampler5_pct=$(awk -v a="$agent5_pct" -v b="$baseline_pct" 'BEGIN {printf "%.2f", a - b}')
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

speedup() { awk -v a="$ps_median" -v b="$1" 'BEGIN {printf "%.1f", a / b}'; }
cat <<EOF
## Process collector

Run with \`bench/ps.sh $extra $agent_seconds $warmup\` on $(nproc) cores ($(uname -r)), $(date -u +%Y-%m-%d), Release build.
$extra extra \`sleep\` processes were running: $total processes in all. Load average $load_before before the agent run,
$load_after after: the machine was shared with other builds, so absolute numbers are noisy; each comparison ran in the same minute.

One snapshot in-process (\`pipeline ps --bench $runs\`: a new collector each time, so every process is read
from scratch, as ps does), against \`ps -eo pid,ppid,user,pcpu,rss,stat,lstart,args\` run $runs times:

| What | median | min | vs ps |
|---|---|---|---|
| \`ps -eo pid,ppid,user,pcpu,rss,stat,lstart,args\` (whole command) | ${ps_median} ms | ${ps_min} ms | 1.0x |
| snapshot with the fields that ps shows (stat, status, cmdline) | $(field ps_fields_median_ms) ms | $(field ps_fields_min_ms) ms | **$(speedup "$(field ps_fields_median_ms)")x** |
| snapshot with what the \`pipeline ps\` table shows (+ cgroup: container) | $(field table_median_ms) ms | $(field table_min_ms) ms | $(speedup "$(field table_median_ms)")x |
| snapshot with every field (+ exe, io, open fds), as \`--json\` and \`snapshot export\` | $(field all_median_ms) ms | $(field all_min_ms) ms | $(speedup "$(field all_median_ms)")x |
| the agent's steady-state sample (same collector; identity re-read every 6th sample) | $(field agent_sample_median_ms) ms | $(field agent_sample_min_ms) ms | |
| \`pipeline ps\` (whole command: .NET start-up + snapshot + table) | ${cmd_median} ms | ${cmd_min} ms | $(speedup "$cmd_median")x |

Agent overhead, sampling every 10 s (all $total processes, published to an embedded broker in another
process; start/exit and OOM checks every 1 s), from the agent's own utime+stime over ${agent_seconds} s after
a ${warmup} s warm-up:

| Agent | CPU, % of one core |
|---|---|
| \`pipeline agent\` with the process sampler (defaults: samples every 10 s, start/exit checks every 1 s) | **${agent_pct}%** |
| the same with \`process.scan_interval = "5s"\` | ${agent5_pct}% |
| the same agent with \`process.enabled = false\` (log tailer on an empty directory, Kafka client, runtime) | ${baseline_pct}% |
| the process sampler's share (the difference), defaults | **${sampler_pct}%** (goal: under 0.5%) |
| the process sampler's share with \`scan_interval = "5s"\` | ${sampler5_pct}% |
EOF
