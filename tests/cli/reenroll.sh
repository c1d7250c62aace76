#!/bin/bash
# reenroll.sh VIGIL VIGIL_COLLECTOR: a host enrolls again while its spool
# still holds records made under its old identity (docs/outbox.md,
# "Re-enrollment"). Both programs real, on loopback, real TLS.
#   1  records spooled before `vigil enroll` gave the host a new id arrive
#      once each, as the OLD host, sent with identity.prev; later ones as
#      the NEW host; identity.prev is removed once they are delivered
#   2  enrolling again is refused while identity.prev still has batches,
#      before the token is spent
#   3  the old certificate revoked before the restart: its batches cannot
#      ever be delivered; they go to bad/ with a gap record, and the new
#      host's records still arrive (the spool is not stuck)
set -u
VIGIL=$1
COLL=$2
MARK=vigil-reenroll
. "$(dirname "$0")/daemons.sh"

phase() { echo "$(date +%T) $*"; }
token() {
	"$COLL" token create --config "$tmp/c/collector.yaml" 2>/dev/null | tail -1
}
enroll() {	# TOKEN [ARGS...]: prints the host id, or nothing
	local t=$1
	shift
	"$VIGIL" enroll --collector "127.0.0.1:$port" --token "$t" --state-dir "$state" "$@" \
		>"$tmp/enroll.out" 2>"$tmp/enroll.err"
	sed -n 's/.* as host \([0-9a-f]*\);.*/\1/p' "$tmp/enroll.out"
}
# The markers TAG-FROM..TO not stored exactly once as HOST (a process
# launch whose device.uid is HOST), with their counts; "@other" for one
# stored under another host. WANT 0: the ones stored at all.
stored_wrong() {	# TAG FROM TO HOST [WANT]
	"$COLL" events --config "$tmp/c/collector.yaml" --format json --limit 1000000 \
		>"$tmp/events.json" 2>"$tmp/events.err" || { echo "query failed"; return; }
	python3 - "$tmp/events.json" "$@" <<'EOF'
import json, sys
path, tag, lo, hi, host = sys.argv[1:6]
want = int(sys.argv[6]) if len(sys.argv) > 6 else 1
cnt = {"/bin/true vigil-reenroll-%s-%d" % (tag, i): 0 for i in range(int(lo), int(hi) + 1)}
bad = []
for e in json.load(open(path)):
    r = e.get("record") or {}
    cl = (r.get("process") or {}).get("cmd_line")
    if r.get("class_uid") == 1007 and r.get("activity_id") == 1 and cl in cnt:
        if (r.get("device") or {}).get("uid") == host:
            cnt[cl] += 1
        else:
            bad.append(cl.split()[-1] + "@other")
print(" ".join(["%s:%d" % (k.split()[-1], n) for k, n in cnt.items() if n != want] + bad))
EOF
}
expect_stored() {	# TAG FROM TO HOST DESC
	local wrong
	for _ in $(seq 90); do
		wrong=$(stored_wrong "$1" "$2" "$3" "$4")
		[ -z "$wrong" ] && { ok; return; }
		case $wrong in *:[2-9]* | *@other*) break ;; esac	# never goes away
		sleep 1
	done
	bad "$5: not stored exactly once as $4: $(echo "$wrong" | cut -c1-300)"
}
gone_until() {	# PATH DESC
	for _ in $(seq 120); do
		[ ! -e "$1" ] && { ok; return 0; }
		sleep 0.5
	done
	bad "$2"
	return 1
}

phase enroll
# ---- enroll, run, deliver ------------------------------------------------------------
collector_start || exit 1
h1=$(enroll "$(token)")
[ -n "$h1" ] && ok || bad "first enrollment: $(cat "$tmp/enroll.out" "$tmp/enroll.err")"
[ ! -e "$state/identity.prev" ] && ok || bad "a first enrollment made identity.prev"
sensor_start
status_until "^collector: .*, connected" "vigil run did not start and connect" || exit 1
markers A 1 10
expect_stored A 1 10 "$h1" "A: before anything"

phase 1
# ---- 1: spooled under H1, delivered as H1 after re-enrollment --------------------------
collector_stop
markers B 1 20 0.05
sleep 1
kill -9 "$spid"		# no clean stop: whatever is in open.log stays there
wait "$spid" 2>/dev/null
spid=
ls "$state/outbox" | grep -qE '^[0-9a-f]{16}$' && ok ||
	bad "no sealed batch spooled while the collector was down: $(ls "$state/outbox")"
collector_start || exit 1
h2=$(enroll "$(token)")
[ -n "$h2" ] && [ "$h2" != "$h1" ] && ok ||
	bad "re-enrollment: host '$h2' (was $h1): $(cat "$tmp/enroll.out" "$tmp/enroll.err")"
expect_in "$tmp/enroll.out" "of host $h1 stay spooled; they are sent as $h1" \
	"enroll says what stays spooled"
[ -d "$state/identity.prev" ] && ok || bad "no identity.prev after re-enrolling with a spool"
[ "$(stat -c %a "$state/identity.prev/host.key" 2>/dev/null)" = 600 ] && ok ||
	bad "identity.prev/host.key is not 0600"
openssl x509 -noout -subject -in "$state/identity.prev/host.crt" 2>/dev/null | grep -q "$h1" &&
	ok || bad "identity.prev's certificate is not host $h1's"
cmp -s "$state/identity.old/host.key" "$state/identity.prev/host.key" && ok ||
	bad "identity.prev/host.key is not the old key"

phase 2
# ---- 2: a third enrollment is refused while identity.prev has batches -------------------
t3=$(token)
nenr=$(grep -c "enrolled host" "$tmp/c/log")
expect_rc 1 "enroll again while identity.prev has batches" -- \
	"$VIGIL" enroll --collector "127.0.0.1:$port" --token "$t3" --state-dir "$state"
expect_in "$tmp/err" "are not delivered yet" "the refusal says why"
expect_in "$tmp/err" "--discard-previous" "the refusal says what to do"
openssl x509 -noout -subject -in "$state/identity/host.crt" 2>/dev/null | grep -q "$h2" && ok ||
	bad "a refused enrollment changed the identity"
[ "$(grep -c "enrolled host" "$tmp/c/log")" = "$nenr" ] && ok ||
	bad "the refused enrollment reached the collector"
expect_rc 2 "a malformed token with --discard-previous" -- \
	"$VIGIL" enroll --collector "127.0.0.1:$port" --token "not-a-token" --state-dir "$state" \
	--discard-previous
[ -d "$state/identity.prev" ] && ok || bad "a refused enrollment removed identity.prev"

# The previous identity's batches are shown while they cannot go.
collector_stop
sensor_start
status_until "^previous: +host $h1: [1-9][0-9]* batches" "status shows the previous identity's batches"
status_until "^host id: +$h2" "status names the new host"
collector_start || exit 1
markers C 1 10 0.05
expect_stored B 1 20 "$h1" "1: spooled before re-enrollment, delivered as the old host"
expect_stored C 1 10 "$h2" "1: made after re-enrollment, delivered as the new host"
expect_stored A 1 10 "$h1" "A again: nothing stored twice"
gone_until "$state/identity.prev" "identity.prev stays after its batches were delivered"
grep -q "removed" <(grep "identity.prev" "$tmp/s/log") && ok ||
	bad "the sensor did not log removing identity.prev"
status_until "^collector: .*, connected" "status is connected after re-enrollment"
"$VIGIL" status --state-dir "$state" | grep -q "^previous:" && bad "status still shows a previous identity" || ok

phase 3
# ---- 3: the old certificate revoked: its batches go to bad/, the spool moves on ----------
collector_stop
markers D 1 20 0.05
sensor_stop		# a clean stop seals the open batch as H2
h3=$(enroll "$t3" 2>/dev/null)
[ -z "$h3" ] && ok || bad "enroll with the collector down named a host"
[ ! -e "$state/identity.prev" ] && ok || bad "a failed enrollment made identity.prev"
collector_start || exit 1
h3=$(enroll "$t3")	# the token the refused attempt did not spend
[ -n "$h3" ] && [ "$h3" != "$h2" ] && ok ||
	bad "third enrollment: host '$h3': $(cat "$tmp/enroll.out" "$tmp/enroll.err")"
expect_in "$tmp/enroll.out" "of host $h2 stay spooled" "enroll keeps host $h2's identity"
serial=$(openssl x509 -noout -serial -in "$state/identity.prev/host.crt" | sed 's/^serial=//')
expect_rc 0 "revoke host $h2's certificate" -- \
	"$COLL" cert revoke "$serial" --config "$tmp/c/collector.yaml"
held=$(ls "$state/outbox" | grep -cE '^[0-9a-f]{16}$')
phase "3: the sensor restarted with the old certificate revoked"
sensor_start
markers E 1 10 0.3
expect_stored E 1 10 "$h3" "3: the new host's records arrive past the refused old ones"
phase "3: identity.prev given up"
gone_until "$state/identity.prev" "identity.prev stays after the collector refused it"
grep -q "the collector refused the previous identity (host $h2)" "$tmp/s/log" && ok ||
	bad "the sensor did not log giving up host $h2's batches"
n=$(ls "$state/outbox/bad" 2>/dev/null | grep -c .)
[ "$n" -ge 1 ] && [ "$n" -le "$held" ] && ok || bad "bad/ holds $n files; $held batches were spooled"
phase "3: the gap record"
# The gap record, as the new host, counts what was given up. No query
# command shows gaps: read the store (SQLite, read-only) as they are kept.
gap=
for _ in $(seq 60); do
	gap=$(python3 - "$tmp/c/state/vigil.db" "$h3" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
n = db.execute("SELECT COALESCE(SUM(g.records), 0) FROM gaps g JOIN hosts h ON h.id = g.host_id "
               "WHERE h.uid = ?", (sys.argv[2],)).fetchone()[0]
print(n)
EOF
)
	[ "${gap:-0}" -gt 0 ] && break
	sleep 1
done
[ "${gap:-0}" -ge 20 ] && ok || bad "no gap record as $h3 counting the given-up records (got '$gap')"
n=$(stored_wrong D 1 20 "$h2" 0)
[ -z "$n" ] && ok || bad "records of the revoked host were stored: $n"
phase "3: status"
status_until "^given up: +[0-9]+ records in [1-9]" "status counts what was given up"
status_until "^collector: .*, connected" "status is connected after giving up"
sensor_stop

if [ "$fail" -gt 0 ]; then
	echo "--- collector log (tail)"; tail -20 "$tmp/c/log"
	echo "--- sensor log"; grep -v libbpf "$tmp/s/log" | grep -E "shipper|outbox|identity|host" | tail -40
	for l in "$tmp/s/log" "$tmp/c/log"; do	# a sanitizer's report, whole
		grep -A40 -E "ERROR: (Address|Leak)Sanitizer|runtime error" "$l" | head -60
	done
fi
echo "reenroll: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
