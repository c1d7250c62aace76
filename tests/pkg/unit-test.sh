#!/usr/bin/env bash
# unit-test.sh BUILD_DIR: the two .debs under a running systemd. Boots a
# copy of the Debian 12 root (lib.sh) with systemd-nspawn, installs the
# packages there and checks what the chroot tests cannot:
#   - install with systemd running: each unit is enabled, not started;
#   - the hardened vigil.service runs the sensor's event engine (`vigil
#     watch` in a drop-in, under every other setting of the unit) in each
#     mode (bpf, hybrid, fanotify), and file events reach it; its state
#     directory is writable and /etc/vigil is not;
#   - `vigil run` before enrolling fails and is retried up to the start limit;
#   - the real thing, as docs/install.md tells the operator: the collector
#     started, a token made, `vigil enroll`, `systemctl start vigil`; then
#     the collector knows the host (reporting, in hybrid mode: auto's
#     first), its check results and a marked process start; `vigil status` says connected; the
#     collector runs as its own user without capabilities, the CA a root
#     `token create` made is its own, and no token secret reaches the
#     journal; reload keeps the sensor running; both stop cleanly;
#   - `systemd-analyze security` of both units, as installed;
#   - upgrade and purge with systemd running.
# The container gets every capability and the eBPF/fanotify system calls,
# so that it is the unit, not nspawn, that limits the sensor. It has a
# network of its own (loopback only): the collector's port 24224 is the
# container's, not the host's.
set -uo pipefail
BUILD=$(cd "${1:?usage: unit-test.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d /var/tmp/vigil-unit.XXXXXX)
root=$tmp/root
nspid=
cleanup() {
	if [ -n "$nspid" ]; then
		kill "$nspid" 2>/dev/null
		wait "$nspid" 2>/dev/null
	fi
	[ -d "$root" ] && rm -rf --one-file-system "$root"
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$src/tests/cli/lib.sh"
. "$here/lib.sh"

pkg_need systemd-nspawn systemd-container
pkg_version
pkg_build DEB
deb1=$(ls "$tmp"/out1/vigil_*.deb)
deb2=$(ls "$tmp"/out2/vigil_*.deb)
cdeb1=$(ls "$tmp"/out1/vigil-collector_*.deb)
cdeb2=$(ls "$tmp"/out2/vigil-collector_*.deb)

pkg_root_ensure || { echo "FAIL: no Debian 12 root"; exit 1; }
pkg_root_fetch "$deb1" "$cdeb1" || { echo "FAIL: fetching the dependencies"; exit 1; }
cp -a "$PKG_ROOT" "$root" || { echo "FAIL: copying the root"; exit 1; }
cp "$deb1" "$deb2" "$cdeb1" "$cdeb2" "$root/root/"	# not /tmp: the booted system mounts a tmpfs there

systemd-nspawn -q -D "$root" --register=no --keep-unit -b --console=pipe --private-network \
	--capability=all --system-call-filter='bpf perf_event_open fanotify_init fanotify_mark open_by_handle_at' \
	</dev/null >"$tmp/nspawn.log" 2>&1 &
nspid=$!
init=
st=
for _ in $(seq 600); do	# 180 s: a loaded 2-core machine boots slowly
	# nspawn forks short-lived helpers (the private network's among them)
	# before the container's init: take only a child that is systemd.
	[ -n "$init" ] && [ "$(cat /proc/"$init"/comm 2>/dev/null)" = systemd ] ||
		init=$(pgrep -P "$nspid" -x systemd | head -1)
	if [ -n "$init" ]; then
		st=$(nsenter -t "$init" -a systemctl is-system-running 2>/dev/null)
		case $st in running|degraded) break ;; esac
	fi
	sleep 0.3
done
case ${st:-} in
running|degraded) ok ;;
*) bad "the root did not boot under systemd-nspawn (${st:-no state}): $(tail -5 "$tmp/nspawn.log")"
   echo "pkg.unit: $pass passed, $fail failed"; exit 1 ;;
esac
in_ct() { nsenter -t "$init" -a /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
journal() {	# the current run of UNIT (vigil.service)
	local inv
	inv=$(in_ct systemctl show -p InvocationID --value "${1:-vigil.service}")
	in_ct journalctl "_SYSTEMD_INVOCATION_ID=$inv" --no-pager -o cat
}
prop() { in_ct systemctl show -p "$2" --value "$1"; }	# UNIT PROPERTY

# ---- install with systemd running -------------------------------------------------
expect_rc 0 "install under systemd" -- in_ct apt-get install -y "/root/$(basename "$deb1")"
[ "$(in_ct systemctl is-enabled vigil.service)" = enabled ] && ok || bad "not enabled after install"
[ "$(in_ct systemctl is-active vigil.service)" = inactive ] && ok || bad "started by install: $(in_ct systemctl is-active vigil.service)"
expect_rc 0 "security of the installed unit" -- in_ct systemd-analyze security --no-pager vigil.service
tail -1 "$tmp/out"

# ---- the hardened unit runs the engine ---------------------------------------------
dropin=$root/etc/systemd/system/vigil.service.d/stand-in.conf
mkdir -p "$(dirname "$dropin")"
for mode in bpf hybrid fanotify; do
	proc=--no-process
	[ $mode = fanotify ] || proc=
	cat >"$dropin" <<-EOF
		# Until \`vigil run\` exists: its event engine, under the unit's hardening.
		[Service]
		Type=simple
		WatchdogSec=0
		ExecStart=
		ExecStart=/usr/sbin/vigil watch --json $proc --mode $mode --paths /etc
	EOF
	in_ct systemctl daemon-reload
	in_ct systemctl restart vigil.service
	for _ in $(seq 100); do
		journal >"$tmp/j"
		grep -q "^vigil watch: mode" "$tmp/j" && break
		sleep 0.2
	done
	in_ct sh -c "echo probe >/etc/vigil-probe-$mode; chmod 600 /etc/vigil-probe-$mode"
	for _ in $(seq 50); do	# events reach the journal within 10 s, however loaded the machine
		journal >"$tmp/j"
		grep -q "\"path\":\"/etc/vigil-probe-$mode\"" "$tmp/j" && break
		sleep 0.2
	done
	[ "$(in_ct systemctl is-active vigil.service)" = active ] && ok ||
		bad "$mode: the unit is not running: $(tail -3 "$tmp/j")"
	grep -q "^vigil watch: mode $mode;" "$tmp/j" && ok || bad "$mode: the engine did not start in mode $mode: $(grep -v '^{' "$tmp/j" | head -3)"
	grep -q "\"path\":\"/etc/vigil-probe-$mode\"" "$tmp/j" && ok || bad "$mode: no file event for /etc/vigil-probe-$mode"
	if [ $mode != fanotify ]; then
		grep -q '"class_uid":1007' "$tmp/j" && ok || bad "$mode: no process events"
	fi
done
# State writable, configuration and system read-only, for the service.
cat >"$dropin" <<-EOF
	[Service]
	Type=oneshot
	WatchdogSec=0
	ExecStart=
	ExecStart=/usr/sbin/vigil fim init
	ExecStart=-/usr/bin/touch /etc/vigil/written /usr/written
EOF
in_ct systemctl daemon-reload
in_ct systemctl restart vigil.service
journal >"$tmp/j"
grep -q "baseline written" "$tmp/j" && ok || bad "vigil fim init under the unit: $(tail -3 "$tmp/j")"
[ -f "$root/var/lib/vigil/fim.db" ] && ok || bad "no /var/lib/vigil/fim.db"
mode_is "$root/var/lib/vigil" "700 root root" "state dir under the unit"
[ ! -e "$root/etc/vigil/written" ] && [ ! -e "$root/usr/written" ] && ok ||
	bad "the unit could write /etc/vigil or /usr"
grep -q "Read-only file system" "$tmp/j" && ok || bad "no read-only refusal: $(tail -3 "$tmp/j")"

# ---- `vigil run` before enrolling: refused, retried up to the start limit ------------
# (restarted after 1 s instead of 5, to keep the test short)
printf '[Service]\nRestartSec=1s\n' >"$dropin"
in_ct systemctl daemon-reload
in_ct systemctl reset-failed vigil.service
in_ct systemctl start vigil.service >/dev/null 2>&1
for _ in $(seq 60); do
	[ "$(prop vigil.service NRestarts)" -ge 4 ] 2>/dev/null &&
		[ "$(in_ct systemctl is-active vigil.service)" = failed ] && break
	sleep 1
done
n=$(prop vigil.service NRestarts)
[ "${n:-0}" -ge 4 ] && [ "$(in_ct systemctl is-active vigil.service)" = failed ] && ok ||
	bad "vigil run before enrolling: $n restarts, $(in_ct systemctl is-active vigil.service)"
in_ct journalctl -t vigil --no-pager -o cat >"$tmp/j"
grep -q "this host is not enrolled" "$tmp/j" && ok || bad "vigil run did not say it is not enrolled: $(tail -3 "$tmp/j")"
[ "$(prop vigil.service ExecMainStatus)" = 2 ] && ok || bad "vigil run not enrolled: exit $(prop vigil.service ExecMainStatus), want 2"
in_ct systemctl reset-failed vigil.service
rm -rf "$(dirname "$dropin")"
in_ct systemctl daemon-reload

# ---- the collector: installed, a token made by root before its first start -------------
C=vigil-collector
CSTATE=/var/lib/vigil-collector
expect_rc 0 "install $C under systemd" -- in_ct apt-get install -y "/root/$(basename "$cdeb1")"
[ "$(in_ct systemctl is-enabled $C.service)" = enabled ] && ok || bad "$C not enabled after install"
[ "$(in_ct systemctl is-active $C.service)" = inactive ] && ok || bad "$C started by install: $(in_ct systemctl is-active $C.service)"
expect_rc 0 "token create before the first start" -- in_ct $C token create --ttl 10m
early=$(tail -1 "$tmp/out")
left=$(not_owned_by "$root" $CSTATE $C)
[ -z "$left" ] && ok || bad "token create by root left files the service cannot use: $left"

# ---- as docs/install.md has it: start the collector, make a token, enroll, start --------
expect_rc 0 "systemctl start $C" -- in_ct systemctl start $C.service
[ "$(in_ct systemctl is-active $C.service)" = active ] && ok ||
	bad "$C is not running: $(journal $C.service | tail -5)"
journal $C.service >"$tmp/cj"
grep -q "listening on 0.0.0.0:24224" "$tmp/cj" && ok || bad "$C: no 'listening on 0.0.0.0:24224': $(tail -3 "$tmp/cj")"
# Its own user, no capability, no way to gain one; READY=1 came (Type=notify: active).
cpid=$(prop $C.service MainPID)
[ "$(in_ct stat -c %U "/proc/$cpid")" = $C ] && ok || bad "$C runs as $(in_ct stat -c %U "/proc/$cpid")"
in_ct grep -q '^CapEff:[[:space:]]*0000000000000000$' "/proc/$cpid/status" && ok ||
	bad "$C has capabilities: $(in_ct grep Cap "/proc/$cpid/status")"
in_ct grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$cpid/status" && ok || bad "$C may gain privileges"
[ "$(prop $C.service WatchdogUSec)" = 1min ] && ok || bad "$C watchdog: $(prop $C.service WatchdogUSec)"
left=$(not_owned_by "$root" $CSTATE $C)
[ -z "$left" ] && ok || bad "after the first start: $left"
expect_rc 0 "token create (the operator, as root)" -- in_ct $C token create
token=$(tail -1 "$tmp/out")
grep -qE '^[0-9a-f]{16}\.[0-9a-f]{64}\.[0-9a-f]{64}$' <<<"$token" && ok || bad "token: $token"
[ "${early##*.}" = "${token##*.}" ] && ok || bad "the service made a new CA over the one token create made"
expect_rc 0 "vigil enroll" -- in_ct vigil enroll --collector 127.0.0.1:24224 --token "$token"
host=$(sed -n 's/.* as host \([0-9a-f]*\);.*/\1/p' "$tmp/out")
[ -n "$host" ] && ok || bad "enroll named no host id: $(cat "$tmp/out" "$tmp/err")"
expect_rc 0 "systemctl start vigil" -- in_ct systemctl start vigil.service
spid=$(prop vigil.service MainPID)

# vigil status: connected.
for _ in $(seq 60); do
	in_ct vigil status >"$tmp/status" 2>&1 && grep -q '^collector: .*, connected,' "$tmp/status" && break
	sleep 1
done
[ "$(in_ct systemctl is-active vigil.service)" = active ] && ok ||
	bad "vigil is not running: $(journal | tail -5)"
grep -q '^collector: 127.0.0.1:24224, connected,' "$tmp/status" && ok || bad "vigil status: $(cat "$tmp/status")"
grep -q "^host id:   $host\$" "$tmp/status" && ok || bad "vigil status names no host $host: $(cat "$tmp/status")"
# The collector knows the host, reporting in hybrid mode (auto's first).
for _ in $(seq 60); do
	in_ct $C hosts --format json >"$tmp/hosts.json" 2>"$tmp/err" &&
		python3 - "$tmp/hosts.json" "$host" <<'PY' && break
import json, sys
h = [x for x in json.load(open(sys.argv[1])) if x.get("id") == sys.argv[2]]
sys.exit(0 if h and h[0].get("mode") == "hybrid" and h[0].get("status") == "reporting" else 1)
PY
	sleep 1
done
python3 - "$tmp/hosts.json" "$host" <<'PY' && ok || bad "$C hosts: not $host in hybrid mode, reporting: $(cat "$tmp/hosts.json" "$tmp/err")"
import json, sys
h = [x for x in json.load(open(sys.argv[1])) if x.get("id") == sys.argv[2]]
sys.exit(0 if h and h[0].get("mode") == "hybrid" and h[0].get("status") == "reporting" else 1)
PY
in_ct $C hosts | head -3
# Its check results: as many as the baseline has checks here.
want=$(in_ct vigil check --format json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["checks"]))')
got=
for _ in $(seq 120); do
	got=$(in_ct $C checks --format json 2>/dev/null | python3 -c '
import json, sys
print(sum(len(h.get("checks") or []) for h in json.load(sys.stdin)))' 2>/dev/null)
	[ -n "$got" ] && [ -n "$want" ] && [ "$got" -ge "$want" ] && break
	sleep 1
done
[ -n "$want" ] && [ "$want" -gt 0 ] && [ "$got" = "$want" ] && ok || bad "$C checks: $got results, the baseline has $want"
echo "$C checks: $got results for $host"
# A marked process start (launch, OCSF activity 1) in the container reaches the store, once.
marker=vigil-unit-$$-$RANDOM
in_ct /bin/true "$marker"
found=
for _ in $(seq 60); do
	in_ct $C events --format json --limit 100000 >"$tmp/events.json" 2>/dev/null
	found=$(python3 - "$tmp/events.json" "/bin/true $marker" <<'PY'
import json, sys
n = sum(1 for e in json.load(open(sys.argv[1]))
        if (e.get("record") or {}).get("class_uid") == 1007
        and (e.get("record") or {}).get("activity_id") == 1
        and ((e.get("record") or {}).get("process") or {}).get("cmd_line") == sys.argv[2])
print(n)
PY
)
	[ "${found:-0}" -ge 1 ] && break
	sleep 1
done
[ "$found" = 1 ] && ok || bad "the process start of /bin/true $marker stored ${found:-0} times, want 1"
# A query by root leaves nothing the service cannot use.
left=$(not_owned_by "$root" $CSTATE $C)
[ -z "$left" ] && ok || bad "the operator's queries left: $left"

# ---- the journal: levels, and no secret -------------------------------------------------
# Each line's priority is its level (error 3, warning 4, info 6, debug 7);
# no "<N>" is left in the text.
for u in vigil $C; do
	in_ct journalctl -u $u.service -o json --no-pager >"$tmp/lv.json"
	python3 - "$tmp/lv.json" "$u" <<'PY' && ok || bad "$u.service: journal levels: $(tail -3 "$tmp/lv.err")"
import json, sys
want = {"error": "3", "warning": "4", "info": "6", "debug": "7"}
seen, wrong = set(), []
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e.get("MESSAGE")
    if e.get("SYSLOG_IDENTIFIER") != sys.argv[2] or not isinstance(m, str):
        continue
    parts = m.split(": ", 2)
    if m.startswith("<") or len(parts) < 3 or parts[1] not in want:
        continue    # not a log line (vigil watch's own output, libbpf)
    seen.add(parts[1])
    if e.get("PRIORITY") != want[parts[1]]:
        wrong.append("%s (priority %s)" % (m, e.get("PRIORITY")))
for w in wrong[:3]:
    print(w, file=sys.stderr)
sys.exit(0 if "info" in seen and not wrong else 1)
PY
done 2>"$tmp/lv.err"
in_ct journalctl --no-pager -o cat >"$tmp/alljournal"
for t in "$early" "$token"; do
	secret=$(cut -d. -f2 <<<"$t")
	grep -qF "$secret" "$tmp/alljournal" && bad "a token secret is in the journal" || ok
done
grep -q 'BEGIN .*PRIVATE KEY' "$tmp/alljournal" && bad "a private key is in the journal" || ok

# ---- exposure of both units, as installed -------------------------------------------------
for u in vigil $C; do
	in_ct systemd-analyze security --no-pager $u.service >"$tmp/sec" 2>&1
	score=$(sed -n "s/.*Overall exposure level for $u.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p" "$tmp/sec")
	echo "systemd-analyze security $u.service (installed, booted): ${score:-?}"
	limit=3.5
	[ $u = $C ] && limit=1.5
	awk -v s="${score%% *}" -v l=$limit 'BEGIN { exit !(s != "" && s + 0 <= l) }' && ok ||
		bad "$u.service exposure ${score:-unknown} above $limit"
done

# ---- reload keeps the sensor running; stop is clean ----------------------------------------
expect_rc 0 "systemctl reload vigil" -- in_ct systemctl reload vigil.service
for _ in $(seq 50); do
	journal >"$tmp/j"
	grep -q "configuration reloaded" "$tmp/j" && break
	sleep 0.2
done
grep -q "configuration reloaded" "$tmp/j" && ok || bad "reload: no 'configuration reloaded': $(tail -3 "$tmp/j")"
[ "$(in_ct systemctl is-active vigil.service)" = active ] && [ "$(prop vigil.service MainPID)" = "$spid" ] && ok ||
	bad "reload: $(in_ct systemctl is-active vigil.service), pid $(prop vigil.service MainPID) (was $spid)"
# A bare SIGHUP, as `kill -HUP` would send it (to the process: any thread may take it).
in_ct systemctl kill -s HUP --kill-who=main vigil.service
for _ in $(seq 50); do
	journal >"$tmp/j"
	[ "$(grep -c "configuration reloaded" "$tmp/j")" -ge 2 ] && break
	sleep 0.2
done
[ "$(grep -c "configuration reloaded" "$tmp/j")" -ge 2 ] && ok || bad "SIGHUP: no second 'configuration reloaded'"
[ "$(in_ct systemctl is-active vigil.service)" = active ] && [ "$(prop vigil.service MainPID)" = "$spid" ] && ok ||
	bad "SIGHUP: $(in_ct systemctl is-active vigil.service), pid $(prop vigil.service MainPID) (was $spid)"
in_ct vigil status >"$tmp/status" 2>&1
grep -q '^collector: 127.0.0.1:24224, connected,' "$tmp/status" && ok || bad "after reload: $(cat "$tmp/status")"
expect_rc 0 "systemctl stop vigil" -- in_ct systemctl stop vigil.service
[ "$(prop vigil.service Result)" = success ] && [ "$(prop vigil.service ExecMainStatus)" = 0 ] && ok ||
	bad "vigil stop: result $(prop vigil.service Result), exit $(prop vigil.service ExecMainStatus)"
expect_rc 1 "vigil status after the stop" -- in_ct vigil status
expect_in "$tmp/out" "NOT running" "status after the stop"

# ---- upgrade and purge with systemd running ------------------------------------------
echo kept >"$root/var/lib/vigil/state-file"
expect_rc 0 "upgrade under systemd" -- in_ct apt-get install -y "/root/$(basename "$deb2")"
[ "$(in_ct dpkg-query -W -f='${Version}' vigil)" = "$ver-2" ] && ok || bad "upgrade: version"
[ "$(in_ct systemctl is-enabled vigil.service)" = enabled ] && ok || bad "upgrade disabled the unit"
[ "$(in_ct systemctl is-active vigil.service)" = inactive ] && ok || bad "upgrade started a stopped sensor"
[ "$(cat "$root/var/lib/vigil/state-file")" = kept ] && ok || bad "upgrade lost the state"
[ -f "$root/var/lib/vigil/identity/host.key" ] && ok || bad "upgrade lost the identity"
# A running collector moves to the new binary, with its CA and store.
cp "$root$CSTATE/ca/ca.crt" "$tmp/ca.crt"
expect_rc 0 "upgrade $C under systemd" -- in_ct apt-get install -y "/root/$(basename "$cdeb2")"
[ "$(in_ct systemctl is-active $C.service)" = active ] && ok || bad "upgrade stopped the running collector"
[ "$(prop $C.service MainPID)" != "$cpid" ] && ok || bad "upgrade did not restart the collector"
cmp -s "$tmp/ca.crt" "$root$CSTATE/ca/ca.crt" && ok || bad "upgrade changed the CA"
expect_rc 0 "$C hosts after the upgrade" -- in_ct $C hosts
expect_in "$tmp/out" "$host" "the enrolled host after the upgrade"
expect_rc 0 "systemctl stop $C" -- in_ct systemctl stop $C.service
[ "$(prop $C.service Result)" = success ] && [ "$(prop $C.service ExecMainStatus)" = 0 ] && ok ||
	bad "$C stop: result $(prop $C.service Result), exit $(prop $C.service ExecMainStatus)"
expect_rc 0 "purge under systemd" -- in_ct dpkg -P vigil
[ ! -e "$root/var/lib/vigil" ] && [ ! -e "$root/etc/vigil/vigil.yaml" ] && ok || bad "purge left state or configuration"
[ -f "$root/etc/vigil/collector.yaml" ] && ok || bad "purging vigil took collector.yaml"
in_ct systemctl cat vigil.service >/dev/null 2>&1 && bad "systemd still knows vigil.service after purge" || ok
expect_rc 0 "purge $C under systemd" -- in_ct dpkg -P $C
[ ! -e "$root$CSTATE" ] && [ ! -e "$root/etc/vigil" ] && ok || bad "purge left $CSTATE or /etc/vigil"
in_ct systemctl cat $C.service >/dev/null 2>&1 && bad "systemd still knows $C.service after purge" || ok

echo "pkg.unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
