# daemons.sh: a real vigil-collector and a real `vigil run` on loopback, for
# the scripts that test the two together (e2e.sh, reenroll.sh). Source it
# with VIGIL, COLL and MARK (the prefix of marker processes) set. It makes
# $tmp (removed on exit, with both daemons killed), $port, $state (the
# sensor's), $tmp/c/collector.yaml and $tmp/s/vigil.yaml (bpf mode, FIM
# off, 200 ms batches), and sources lib.sh.
tmp=$(mktemp -d)
cpid=
spid=
cleanup() {
	[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
	[ -n "$cpid" ] && kill -9 "$cpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/c" "$tmp/s"
state=$tmp/s/state
cat >"$tmp/c/collector.yaml" <<EOF
listen: [127.0.0.1:$port]
state_dir: $tmp/c/state
log_level: debug
EOF
cat >"$tmp/s/vigil.yaml" <<EOF
run:
  state_dir: $state
  mode: bpf
  heartbeat_interval: 5
  check_interval: 3600
  fim: false
outbox:
  batch_ms: 200
EOF

# Until LOG has one more line matching RE than it had (N): a restarted
# daemon is ready only when it says so again.
said_again() {	# LOG RE N
	for _ in $(seq 200); do
		[ "$(grep -c "$2" "$1" 2>/dev/null)" -gt "${3:-0}" ] && return 0
		sleep 0.1
	done
	return 1
}
collector_start() {
	local n
	n=$(grep -c "listening on 127.0.0.1:$port" "$tmp/c/log" 2>/dev/null)
	"$COLL" serve --config "$tmp/c/collector.yaml" >>"$tmp/c/log" 2>&1 &
	cpid=$!
	said_again "$tmp/c/log" "listening on 127.0.0.1:$port" "$n" && return 0
	bad "the collector did not start: $(tail -3 "$tmp/c/log")"
	return 1
}
collector_stop() {
	kill -TERM "$cpid"
	wait "$cpid"
	cpid=
}
# vigil run logs "running as host" once its event source is open: a process
# started before that is not seen.
sensor_start() {
	local n
	n=$(grep -c "running as host" "$tmp/s/log" 2>/dev/null)
	"$VIGIL" run --config "$tmp/s/vigil.yaml" >>"$tmp/s/log" 2>&1 &
	spid=$!
	said_again "$tmp/s/log" "running as host" "$n" ||
		bad "vigil run did not start: $(tail -3 "$tmp/s/log")"
}
sensor_stop() {
	kill -TERM "$spid"
	wait "$spid"
	[ $? -eq 0 ] && ok || bad "vigil run did not exit 0 on SIGTERM: $(tail -3 "$tmp/s/log")"
	spid=
}
# Until `vigil status` shows a line matching RE (it is written every 5 s).
status_until() {	# RE DESC
	for _ in $(seq 120); do
		"$VIGIL" status --state-dir "$state" >"$tmp/status" 2>&1
		grep -qE "$1" "$tmp/status" && { ok; return 0; }
		sleep 0.5
	done
	bad "$2: $(head -9 "$tmp/status")"
	return 1
}
# Each marker: one process start the sensor must ship, /bin/true MARK-TAG-I.
markers() {	# TAG FROM TO [DELAY]
	for i in $(seq "$2" "$3"); do
		/bin/true "$MARK-$1-$i"
		[ -n "${4:-}" ] && sleep "$4"
	done
}
