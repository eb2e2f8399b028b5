#!/usr/bin/env bash
# Packages the single-file binary as a Debian package: OUT_DIR/pipeline_<version>_amd64.deb.
#
#   build/deb.sh [BINARY] [OUT_DIR]          # defaults: artifacts/pipeline (build/publish.sh), artifacts/
#
# Plain dpkg-deb over a staging tree instead of debhelper: the binary is already built, and the package
# is five files and three maintainer scripts (deploy/debian/), which reads more easily as this script
# than as a debian/rules indirection.
#   /usr/bin/pipeline                          the binary (runtime and librdkafka inside)
#   /lib/systemd/system/pipeline-agent.service deploy/systemd/pipeline-agent.service
#   /etc/pipeline/agent.toml                   conffile: dpkg keeps local edits across upgrades
#   /usr/share/doc/pipeline/{copyright,changelog.gz}
# The maintainer scripts create the `pipeline` user and /var/lib/pipeline (0750); see deploy/debian/.
# Check the result with: lintian artifacts/pipeline_*_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-artifacts/pipeline}
out=${2:-artifacts}
[ -x "$binary" ] || { echo "error: $binary is missing; run build/publish.sh first" >&2; exit 1; }

version=$("$binary" version --json | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
[ -n "$version" ] || { echo "error: cannot read the version from $binary version --json" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

install -D -m 0755 "$binary" "$stage/usr/bin/pipeline"
install -D -m 0644 deploy/systemd/pipeline-agent.service "$stage/lib/systemd/system/pipeline-agent.service"
install -D -m 0644 deploy/debian/agent.toml "$stage/etc/pipeline/agent.toml"
install -D -m 0644 deploy/debian/copyright "$stage/usr/share/doc/pipeline/copyright"
install -D -m 0644 deploy/debian/lintian-overrides "$stage/usr/share/lintian/overrides/pipeline"
# A native package's changelog: one entry for this build, dated by the last commit so rebuilds are identical.
date=$(git log -1 --format=%cD 2>/dev/null || date -R)
printf 'pipeline (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- Pipeline maintainers <pipeline@example.org>  %s\n' \
  "$version" "$version" "$date" | gzip -9n >"$stage/usr/share/doc/pipeline/changelog.gz"
chmod 0644 "$stage/usr/share/doc/pipeline/changelog.gz"

mkdir -p "$stage/DEBIAN"
install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$stage/DEBIAN/"
echo /etc/pipeline/agent.toml >"$stage/DEBIAN/conffiles"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: pipeline
Version: $version
Architecture: amd64
Maintainer: Pipeline maintainers <pipeline@example.org>
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: libc6 (>= 2.28), libgcc-s1, libstdc++6, passwd
Recommends: ca-certificates, libssl3
Section: admin
Priority: optional
Description: host observability agent: ships logs to Kafka
 The edge agent of Pipeline tails log files into Kafka with at-least-once
 delivery (offsets saved only after Kafka acknowledged the lines). The single
 binary also runs the stream processors, sinks and an embedded broker.
 .
 It runs as the pipeline-agent systemd service, as the unprivileged pipeline
 user with CAP_DAC_READ_SEARCH and CAP_SYSLOG only. Check a host with
 pipeline doctor --config /etc/pipeline/agent.toml.
CONTROL

mkdir -p "$out"
deb="$out/pipeline_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz -z3 --build "$stage" "$deb" >/dev/null
echo "$deb: $(du -m "$deb" | cut -f1) MiB"
