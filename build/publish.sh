#!/usr/bin/env bash
# Publishes `pipeline` as one self-contained linux-x64 file: artifacts/pipeline. It needs no .NET on the
# target machine, only glibc (tested on Debian 12).
#
#   build/publish.sh [OUTPUT_DIR]            # default artifacts/
#
# What each choice buys (measured in bench/RESULTS.md, "Startup and footprint"):
#  - IncludeNativeLibrariesForSelfExtract: librdkafka (librdkafka.so and the centos8-librdkafka.so that
#    Confluent.Kafka falls back to on Debian) travels inside the file and is extracted once, on first
#    start, to $DOTNET_BUNDLE_EXTRACT_BASE_DIR or ~/.net (the systemd unit points it at /var/cache/pipeline).
#    Without it the .so files would have to sit next to the binary.
#  - PublishReadyToRun: precompiled code, so `pipeline version` does not wait for the JIT (about half
#    the CPU time at startup).
#  - PublishTrimmed with TrimMode=partial: trims only the assemblies that declare themselves trimmable
#    (the .NET libraries); ours and the reflection-heavy ones (Tomlyn's serializer over our config types,
#    Streamiz, the Elastic client, filter plugins loaded at run time) are kept whole. That takes the file
#    from ~260 to ~90 MB and idle RSS down by a quarter. Full trimming would break those reflection users.
#    SuppressTrimAnalysisWarnings: the warnings are about reflection inside the assemblies partial mode
#    leaves whole; the end-to-end test of the published file (PublishedBinaryTests) is what proves it.
#  - Natives never loaded (alpine-librdkafka.so, RocksDB) are left out: see cli/Pipeline.Cli/Pipeline.Cli.csproj.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet publish cli/Pipeline.Cli/Pipeline.Cli.csproj -c Release -r linux-x64 --self-contained \
  -p:PublishSingleFile=true \
  -p:IncludeNativeLibrariesForSelfExtract=true \
  -p:PublishReadyToRun=true \
  -p:PublishTrimmed=true -p:TrimMode=partial -p:SuppressTrimAnalysisWarnings=true \
  -p:DebugType=none \
  -o "$out" -nologo -v quiet
echo "$out/pipeline: $(du -m "$out/pipeline" | cut -f1) MiB; $("$out/pipeline" version)"
