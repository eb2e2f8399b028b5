#!/usr/bin/env bash
# Builds the pipeline and runs `pipeline run` (everything in one process, on the embedded Kafka
# broker unless the config names real brokers). Extra arguments go to `pipeline run`, e.g.
#   build/run.sh --config deploy/pipeline/run.toml
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build -c Release cli/Pipeline.Cli -v quiet -nologo >&2
exec dotnet cli/Pipeline.Cli/bin/Release/net10.0/pipeline.dll run "$@"
