# Sourced by bench/logs.sh and bench/logs-steady.sh: the shipper configurations both compare, kept in one place so
# the two benchmarks always measure the same agent filter chain and the same rsyslog.

# The host name the agents report, and so their record key: kcat runs key by it too, to land on one partition as they do.
BENCH_HOST=benchhost

# A `pipeline agent` config tailing GLOB from the beginning, with /metrics on 127.0.0.1:PORT, host BENCH_HOST,
# the 3-filter chain below when FILTERS is 1, and scan_interval when SCAN is given.
agent_toml() { # dir, filters (0/1), glob, metrics port, [scan interval]
    cat <<TOML
data_dir = "$1"
host_name = "$BENCH_HOST"
[metrics]
listen = "127.0.0.1:$4"
[[logs.inputs]]
paths = ["$3"]
start_at = "beginning"
TOML
    if [[ -n ${5:-} ]]; then echo "scan_interval = \"$5\""; fi
    if [[ $2 == 1 ]]; then edge_filters_toml; fi
}

# The agent's 3-filter chain (dissect, redact with its built-in set, add_fields), appended to a [[logs.inputs]].
edge_filters_toml() {
    cat <<'TOML'
[[logs.inputs.filters]]
type = "dissect"
pattern = "%{ts} %{level} [%{worker}] %{method} %{path} %{rest}"
target = "parsed"
[[logs.inputs.filters]]
type = "redact"
[[logs.inputs.filters]]
type = "add_fields"
fields = { "labels.env" = "bench", "labels.team" = "sre" }
TOML
}

# rsyslog imfile -> omkafka, as fair as test-peers.md makes it: a Direct main queue (no extra hop), imfile in
# inotify mode reading the whole file, omkafka spreading over partitions like librdkafka does, the bare message,
# no 8 KiB cut, and the same linger and batch size as the others.
rsyslog_conf() { # work-directory, file to read, bootstrap
    cat <<CONF
global(workDirectory="$1" maxMessageSize="64k")
main_queue(queue.type="Direct")
module(load="imfile" mode="inotify")
module(load="omkafka")
template(name="msg" type="string" string="%msg%")
input(type="imfile" file="$2" tag="bench" readMode="0" freshStartTail="off" ruleset="ship")
ruleset(name="ship") {
  action(type="omkafka" broker=["$3"] topic="bench.rsyslog" template="msg" partitions.auto="on"
         confParam=["queue.buffering.max.ms=5", "batch.num.messages=10000"])
}
CONF
}
