#!/usr/bin/env bash
# The hostile-input properties of tests/Pipeline.Tests/Fuzz for much longer than CI runs them.
#   ITERATIONS=2000000 bash bench/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PIPELINE_FUZZ_ITERATIONS="${ITERATIONS:-500000}"
echo "running hostile-input properties with ${PIPELINE_FUZZ_ITERATIONS} iterations each"
dotnet test --project tests/Pipeline.Tests/Pipeline.Tests.csproj -c Release -- --filter-namespace 'Pipeline.Tests.Fuzz'
