#!/usr/bin/env bash
# Appends a benchmark's Markdown output to bench/RESULTS.md under "## Sinks" (creating the file and the heading when
# missing), with the date, commit and machine, so results stay comparable run to run.
set -euo pipefail
cd "$(dirname "$0")/.."
results=bench/RESULTS.md
[ -f "$results" ] || printf '# Benchmark results\n' > "$results"
grep -q '^## Sinks$' "$results" || printf '\n## Sinks\n' >> "$results"
{
  printf '\n_%s, commit %s, %s CPUs (%s), load average before the run %s_\n\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(nproc)" \
    "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)" "${BENCH_LOAD:-$(cut -d' ' -f1-3 /proc/loadavg)}"
  cat "$1"
} >> "$results"
