#!/usr/bin/env bash
# Elasticsearch sink throughput: documents per second from the embedded broker into the Elasticsearch test server on
# loopback, through a real `pipeline sink` process, for a sweep of sinks.batch_size; CPU seconds per 100k documents
# for the sink and (separately) for the test server. Appends the table to bench/RESULTS.md under "## Sinks".
#   bench/es.sh [docs] [batch sizes...]      e.g. bench/es.sh 50000 100 500 1000 2000 5000
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build bench/Pipeline.Bench -c Release -v quiet -nologo >/dev/null
export BENCH_LOAD="$(cut -d" " -f1-3 /proc/loadavg)"
out=$(mktemp)
dotnet bench/Pipeline.Bench/bin/Release/net10.0/Pipeline.Bench.dll es "$@" | tee "$out"
bash bench/append-results.sh "$out"
rm -f "$out"
