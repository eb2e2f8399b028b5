#!/usr/bin/env bash
# Runs the whole test suite, installing the real peers the tests talk to (kcat, prometheus,
# promtool, Debian's python3-prometheus-client, prometheus-alertmanager) and the packaging tools the
# deploy tests run (systemd-analyze, lintian) when it can; publishes the single-file binary
# (build/publish.sh) and the .deb (build/deb.sh) the end-to-end tests run; and prints one summary line
# "N passed, N failed, N skipped" taken from the TRX result files.
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

peers=(kcat prometheus python3-prometheus-client prometheus-alertmanager systemd lintian)
missing=()
command -v kcat >/dev/null || missing+=(kcat)
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null || missing+=(python3-prometheus-client)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v lintian >/dev/null || missing+=(lintian)
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing test peers: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${peers[@]}" >/dev/null
  else
    echo "warning: ${missing[*]} not installed and not root; the tests that need them will be skipped (sudo apt-get install -y ${peers[*]})" >&2
  fi
fi

results=TestResults
rm -rf "$results"
status=0
# The published single file and the .deb are what the PublishedBinary and DebianPackage tests run.
# A failure here is counted below, not hidden behind the tests' skips.
packaging_failed=0
if ! bash build/publish.sh artifacts || ! bash build/deb.sh artifacts/pipeline artifacts; then
  echo "error: build/publish.sh or build/deb.sh failed; the tests of the published binary and the .deb are skipped" >&2
  packaging_failed=1
fi
mkdir -p "$results"
dotnet test --solution Pipeline.sln --report-xunit-trx --results-directory "$results" "$@" 2>&1 | tee "$results/console.log" || status=$?

passed=0 failed=0 skipped=0
shopt -s nullglob
trx=("$results"/*.trx)
for f in "${trx[@]}"; do
  counters=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done
# Name the failures right above the summary, where a CI log's tail shows them.
for f in "${trx[@]}"; do
  grep -o '<UnitTestResult [^>]*outcome="\(Failed\|Error\|Timeout\)"[^>]*>' "$f" |
    sed -n 's/.*testName="\([^"]*\)".*/FAILED: \1/p' || true
done
# Each test app names its TRX file by its start time, and two apps started in the same instant have
# overwritten each other's file (seen once): then the platform's own final summary is the complete count.
total=$(sed -n 's/^  total: \([0-9]*\)$/\1/p' "$results/console.log" | tail -1)
if [ -n "$total" ] && ((total > passed + failed + skipped)); then
  echo "note: the TRX files hold $((passed + failed + skipped)) of $total results (a file was overwritten); counting from the test platform's summary" >&2
  passed=$(sed -n 's/^  succeeded: \([0-9]*\)$/\1/p' "$results/console.log" | tail -1)
  failed=$(sed -n 's/^  failed: \([0-9]*\)$/\1/p' "$results/console.log" | tail -1)
  skipped=$(sed -n 's/^  skipped: \([0-9]*\)$/\1/p' "$results/console.log" | tail -1)
fi
if ((${#trx[@]} == 0)); then
  echo "no test results were written (build failure?)" >&2
  failed=$((failed + 1))
fi
if ((status != 0 && failed == 0)); then failed=1; fi
failed=$((failed + packaging_failed))
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
((failed == 0))
