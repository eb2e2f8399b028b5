# syntax=docker/dockerfile:1
# The `pipeline` binary in a container. One image serves every role; the compose file picks the
# role with the command (`agent`, `process`, `sink`, `broker`, `run`) and mounts the matching config.
#
#   docker build -t pipeline .

# ---- build ------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# .git is deliberately part of the build context: cli/Pipeline.Cli runs `git rev-parse HEAD` to stamp
# `pipeline version`, and it only reaches this build stage, never the runtime image. (From a git
# worktree or a tarball the commit reads "unknown"; the build still succeeds.)
COPY . .

# The NuGet cache mount keeps restores fast across rebuilds without a fragile "copy the csproj files
# first" layer that breaks whenever a project is added.
RUN --mount=type=cache,id=pipeline-nuget,target=/root/.nuget/packages \
    dotnet publish cli/Pipeline.Cli -c Release -o /app \
        -p:UseAppHost=false

# ---- runtime ----------------------------------------------------------------------------------
# Must stay glibc-based (not -alpine). Native libraries come from NuGet's runtimes/linux-x64/native:
#  - librdkafka: the default librdkafka.so there links libsasl2.so.3, which Debian and Ubuntu do not
#    ship (they have libsasl2.so.2, package libsasl2-2). Confluent.Kafka then falls back to
#    centos8-librdkafka.so, which needs nothing but glibc. So do NOT install libsasl2 hoping to fix
#    anything: that build has no SASL/GSSAPI (Kerberos); PLAIN/SCRAM/SSL work without it.
#  - RocksDB (Streamiz state stores): needs glibc and libstdc++, both in this image.
# Note: from .NET 10 the plain `10.0` tag is Ubuntu 24.04 "noble"; Microsoft no longer ships Debian
# images for .NET 10. Ubuntu is glibc + libsasl2.so.2 like Debian, so the fallback above is the same.
FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime

# A fixed uid/gid so host-side ownership of bind mounts and volumes is predictable.
# The agent reads /var/log; compose adds it to the host's `adm` group (gid 4 on Debian/Ubuntu).
RUN groupadd --system --gid 10001 pipeline \
 && useradd --system --uid 10001 --gid pipeline --home-dir /var/lib/pipeline --no-create-home --shell /usr/sbin/nologin pipeline \
 && mkdir -p /var/lib/pipeline /etc/pipeline \
 && chown pipeline:pipeline /var/lib/pipeline

COPY --from=build /app /app

# Checkpoints, stream state (RocksDB) and NDJSON output. Created above owned by `pipeline`, so a new
# named volume mounted here starts out writable by the service.
VOLUME ["/var/lib/pipeline"]
WORKDIR /var/lib/pipeline

ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1

# Prometheus /metrics (metrics.listen). The configs under deploy/pipeline bind 0.0.0.0:9464: the
# default 127.0.0.1 would be unreachable from the Prometheus container.
EXPOSE 9464

USER pipeline

# No HEALTHCHECK here: the metrics port depends on the config the container is started with, so
# docker-compose.yml declares one per service next to that config.
ENTRYPOINT ["dotnet", "/app/pipeline.dll"]
# Without arguments, print the subcommands.
CMD ["--help"]
