#!/usr/bin/env bash
# Exporter scrape cost: time and size of GET /metrics with 10,000 and 100,000 exporter series, in the Prometheus text
# format and in OpenMetrics. Appends the table to bench/RESULTS.md under "## Sinks".
#   bench/exporter.sh [series...]      e.g. bench/exporter.sh 10000 100000
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build bench/Pipeline.Bench -c Release -v quiet -nologo >/dev/null
export BENCH_LOAD="$(cut -d" " -f1-3 /proc/loadavg)"
out=$(mktemp)
dotnet bench/Pipeline.Bench/bin/Release/net10.0/Pipeline.Bench.dll exporter "$@" | tee "$out"
bash bench/append-results.sh "$out"
rm -f "$out"
