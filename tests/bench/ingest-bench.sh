#!/bin/bash
# ingest-bench.sh BUILD_DIR [N]: a real vigil-collector on loopback, a host
# enrolled with `vigil enroll`, then ingest-bench sends N process records
# (default 200000) in batches of 1000, 8 in flight, and prints records/s
# acked after commit and the collector's records per CPU-second.
# The store is on /var/tmp (a real disk: every ack waits for an fsync).
set -eu
B=${1:?build dir}
N=${2:-200000}
tmp=$(mktemp -d /var/tmp/ingest-bench.XXXXXX)
trap 'kill $cpid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listen: [127.0.0.1:%s]\nstate_dir: %s/c\nlog_level: warning\n' "$port" "$tmp" >"$tmp/c.yaml"
"$B/collectors/vigil-collector" serve --config "$tmp/c.yaml" 2>"$tmp/c.log" &
cpid=$!
sleep 1
tok=$("$B/collectors/vigil-collector" token create --config "$tmp/c.yaml" | tail -1)
"$B/sensor/vigil" enroll --collector "127.0.0.1:$port" --token "$tok" --state-dir "$tmp/s" >/dev/null
for b in 1000 100; do
	echo "--- batches of $b"
	"$B/tests/bench/ingest-bench" -s "$tmp/s" -n "$N" -b "$b" -w 8 -p "$cpid"
done
