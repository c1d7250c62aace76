#!/bin/bash
# e2e.sh VIGIL VIGIL_COLLECTOR: the sensor and the collector, both real, on
# loopback. A collector starts, a token is made, `vigil enroll` trades it,
# `vigil run` runs; its check results and events must reach the store. Then
# the faults, each with its own marked process starts (/bin/true MARKER),
# each of which must be stored exactly once in the end:
#   A  plain delivery
#   B  the collector stopped (SIGTERM) while the sensor keeps producing
#   C  the collector killed -9 in the middle of ingest
#   D  the sensor killed -9 with records spooled, then started again
# "Exactly once": none lost (every acked chunk was committed; every spooled
# one is sent again) and none twice (a resent chunk is acked, not stored).
set -u
VIGIL=$1
COLL=$2
MARK=vigil-e2e
. "$(dirname "$0")/daemons.sh"

# How often each of TAG-FROM..TO is stored as a process launch; prints the
# markers not seen exactly once, with their counts.
stored_wrong() {	# TAG FROM TO
	"$COLL" events --config "$tmp/c/collector.yaml" --format json --limit 1000000 \
		>"$tmp/events.json" 2>"$tmp/events.err" || { echo "query failed"; return; }
	python3 - "$tmp/events.json" "$1" "$2" "$3" <<'EOF'
import json, sys
path, tag, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
want = {"/bin/true vigil-e2e-%s-%d" % (tag, i): 0 for i in range(lo, hi + 1)}
for e in json.load(open(path)):
    r = e.get("record") or {}
    cl = (r.get("process") or {}).get("cmd_line")
    if r.get("class_uid") == 1007 and r.get("activity_id") == 1 and cl in want:
        want[cl] += 1
print(" ".join("%s:%d" % (k.split()[-1], n) for k, n in want.items() if n != 1))
EOF
}
# Waits up to 90 s for every marker to be stored exactly once.
expect_once() {	# TAG FROM TO DESC
	local wrong
	for _ in $(seq 90); do
		wrong=$(stored_wrong "$1" "$2" "$3")
		[ -z "$wrong" ] && { ok; return; }
		case $wrong in *:[2-9]*) break ;; esac	# a duplicate never goes away
		sleep 1
	done
	bad "$4: not stored exactly once: $(echo "$wrong" | cut -c1-300)"
}

# ---- enrollment ------------------------------------------------------------------
collector_start || exit 1
expect_rc 0 "token create" -- "$COLL" token create --config "$tmp/c/collector.yaml"
token=$(tail -1 "$tmp/out")
expect_rc 2 "enroll with a malformed token" -- \
	"$VIGIL" enroll --collector "127.0.0.1:$port" --token "not-a-token" --state-dir "$tmp/s/state"
expect_rc 1 "enroll with a wrong CA pin" -- \
	"$VIGIL" enroll --collector "127.0.0.1:$port" --state-dir "$tmp/s/state" \
	--token "${token%.*}.$(printf '0%.0s' $(seq 64))"
[ ! -e "$tmp/s/state/identity" ] && ok || bad "a failed enrollment left an identity"
expect_rc 0 "enroll" -- "$VIGIL" enroll --collector "127.0.0.1:$port" --token "$token" \
	--state-dir "$tmp/s/state"
host=$(sed -n 's/.* as host \([0-9a-f]*\);.*/\1/p' "$tmp/out")
[ -n "$host" ] && ok || bad "enroll named no host id: $(cat "$tmp/out")"
[ "$(stat -c %a "$tmp/s/state/identity/host.key")" = 600 ] && ok || bad "host.key is not 0600"
expect_rc 1 "the token is single-use" -- "$VIGIL" enroll --collector "127.0.0.1:$port" \
	--token "$token" --state-dir "$tmp/s/other"
expect_in "$tmp/err" "refused" "a reused token is refused by the collector"

# ---- vigil run: checks, heartbeat, events --------------------------------------------
sensor_start
# Events are watched once the daemon runs: its status says so.
status_until "^collector: .*, connected" "vigil run did not start and connect" || exit 1
markers A 1 20
expect_once A 1 20 "A: plain delivery"
# The baseline's results: as many checks in the store as `vigil check` evaluates here.
want=$("$VIGIL" check --format json 2>/dev/null | python3 -c \
	'import json,sys; print(len(json.load(sys.stdin)["checks"]))')
got=
for _ in $(seq 120); do
	got=$("$COLL" checks --config "$tmp/c/collector.yaml" --format json 2>/dev/null | python3 -c '
import json, sys
hosts = json.load(sys.stdin)
print(sum(len(h.get("checks") or []) for h in hosts))' 2>/dev/null)
	[ -n "$got" ] && [ "$got" -ge "$want" ] && break
	sleep 1
done
[ -n "$want" ] && [ "$got" = "$want" ] && ok || bad "checks stored: $got, vigil check evaluates $want"
expect_rc 0 "hosts" -- "$COLL" hosts --config "$tmp/c/collector.yaml" --format json
python3 - "$tmp/out" "$host" <<'EOF' && ok || bad "hosts: not the enrolled host in bpf mode, reporting"
import json, sys
h = [x for x in json.load(open(sys.argv[1])) if x.get("id") == sys.argv[2]]
sys.exit(0 if h and h[0].get("mode") == "bpf" and h[0].get("status") == "reporting" else 1)
EOF
expect_rc 0 "vigil status" -- "$VIGIL" status --state-dir "$tmp/s/state"
expect_in "$tmp/out" "$host" "status names the host id"

# ---- B: the collector stopped while the sensor produces ----------------------------------
kill -TERM "$cpid"
wait "$cpid"
[ $? -eq 0 ] && ok || bad "the collector did not exit 0 on SIGTERM"
cpid=
markers B 1 30 0.05
status_until "not connected" "status says not connected while the collector is down"
collector_start || exit 1
expect_once B 1 30 "B: records made while the collector was down"

# ---- C: the collector killed -9 in the middle of ingest ----------------------------------
markers C 1 400 0.01 &
mpid=$!
sleep 1.5
kill -9 "$cpid"
wait "$cpid" 2>/dev/null
cpid=
sleep 1
collector_start || exit 1
wait "$mpid"
expect_once C 1 400 "C: the collector killed -9 during ingest"
expect_once A 1 20 "A again: nothing stored twice after the restarts"

# ---- D: the sensor killed -9 with records spooled ------------------------------------------
kill -TERM "$cpid"
wait "$cpid"
cpid=
markers D 1 25
sleep 2			# the events are put (ob_put writes them at once)
kill -9 "$spid"
wait "$spid" 2>/dev/null
spid=
collector_start || exit 1
sensor_start
expect_once D 1 25 "D: the sensor's spool after kill -9"

# ---- a clean stop ---------------------------------------------------------------------------
kill -TERM "$spid"
wait "$spid"
[ $? -eq 0 ] && ok || bad "vigil run did not exit 0 on SIGTERM: $(tail -3 "$tmp/s/log")"
spid=
expect_rc 1 "status after the stop" -- "$VIGIL" status --state-dir "$tmp/s/state"
expect_in "$tmp/out" "NOT running" "status says not running"

if [ "$fail" -gt 0 ]; then
	echo "--- collector log (tail)"; tail -20 "$tmp/c/log"
	echo "--- sensor log (tail)"; grep -v libbpf "$tmp/s/log" | tail -20
	for l in "$tmp/s/log" "$tmp/c/log"; do	# a sanitizer's report, whole
		grep -A40 -E "ERROR: (Address|Leak)Sanitizer|runtime error" "$l" | head -60
	done
fi
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
