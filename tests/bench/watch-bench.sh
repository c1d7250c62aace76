#!/usr/bin/env bash
# watch-bench.sh [BUILD_DIR]: what watching costs the watched, side by side.
#
# An open/write/close loop (tests/bench/fileloop.c) runs on a watched and
# on an unwatched directory, on the root file system and on tmpfs, with
# nothing watching; with empty programs on the syscall tracepoints (the
# floor: what any sys_enter/sys_exit design costs before it does anything);
# with `vigil watch` in bpf, hybrid (busy files coalesced, the default, and
# with --coalesce-ms 0: every writer named) and fanotify mode; and with an auditd watch
# rule on the same directory. Rounds are interleaved so cache and frequency
# drift hit every side alike. Then a chmod storm on the watched directory
# measures how many events per second vigil delivers and how many it drops.
# Prints ns/op (median of BENCH_ROUNDS) and the overhead ratios. Never fails
# on a timing; exits non-zero only if something could not run at all.
set -euo pipefail
build=${1:-build}
VIGIL=$build/sensor/vigil
LOOP=$build/tests/bench/fileloop
FLOOR=$build/tests/bench/tpfloor
ROUNDS=${BENCH_ROUNDS:-5}
OPS=${BENCH_OPS:-200000}
STORM=${BENCH_STORM:-2000000}
LOAD=${BENCH_LOAD:-write}		# write: rewrite in place; trunc: O_TRUNC; spread: each file once
FSDIRS=${BENCH_FS:-/var/tmp /dev/shm}	# one scratch directory per file system
[ -x "$VIGIL" ] && [ -x "$LOOP" ] && [ -x "$FLOOR" ] ||
	{ echo "build first: $VIGIL, $LOOP, $FLOOR" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 2; }

tmps=()
vpid=
fpid=
started_auditd=0
W=
cleanup() {
	[ -n "$vpid" ] && kill "$vpid" 2>/dev/null || true
	[ -n "$fpid" ] && kill "$fpid" 2>/dev/null || true
	[ -n "$W" ] && auditctl -W "$W" -p wa -k vigilbench >/dev/null 2>&1 || true
	[ "$started_auditd" = 1 ] && pkill -x auditd || true
	rm -rf "${tmps[@]}"
}
trap cleanup EXIT
log=$(mktemp /tmp/vigil-bench-log.XXXXXX)
tmps+=("$log")

command -v bc >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc >/dev/null
have_auditd=0
if ! command -v auditctl >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq auditd >/dev/null 2>&1 || true
fi
if command -v auditctl >/dev/null; then
	if ! pgrep -x auditd >/dev/null; then
		auditd && started_auditd=1 && sleep 1 || true
	fi
	auditctl -s >/dev/null 2>&1 && have_auditd=1
fi

start_vigil() {	# MODE (hybrid-exact: hybrid with no coalescing, every writer named)
	local mode=${1%-exact} more=()
	[ "$1" = "$mode" ] || more=(--coalesce-ms 0)
	"$VIGIL" watch --quiet --mode "$mode" "${more[@]}" --paths "$W" >/dev/null 2>"$log" &
	vpid=$!
	for _ in $(seq 200); do
		grep -q "mode $mode" "$log" && return 0
		kill -0 "$vpid" 2>/dev/null || break
		sleep 0.05
	done
	echo "vigil watch --mode $1 did not start: $(cat "$log")" >&2
	return 1
}
stop_vigil() {
	kill -INT "$vpid"
	wait "$vpid" || true
	vpid=
}
start_floor() {
	"$FLOOR" "$build/tests/bench/tpfloor.bpf.o" >"$log" 2>&1 &
	fpid=$!
	for _ in $(seq 200); do
		grep -q attached "$log" && return 0
		kill -0 "$fpid" 2>/dev/null || break
		sleep 0.05
	done
	echo "tpfloor did not attach: $(cat "$log")" >&2
	return 1
}
stop_floor() {
	kill -INT "$fpid"
	wait "$fpid" || true
	fpid=
}
loop_ns() {	# DIR
	"$LOOP" "$LOAD" "$1" "$OPS" | sed -E 's/ns_per_op=([0-9.]+).*/\1/'
}
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

bench_fs() {	# SCRATCH_PARENT
	local tmp U r mode who u w base_u base_w fstype
	tmp=$(mktemp -d "$1/vigil-bench.XXXXXX")
	tmps+=("$tmp")
	W=$tmp/watched
	U=$tmp/unwatched
	mkdir -p "$W" "$U"
	fstype=$(stat -f -c %T "$tmp")
	declare -A res=()
	record() { res[$1]="${res[$1]:-} $2"; }
	"$LOOP" "$LOAD" "$U" "$OPS" >/dev/null	# make and warm the files, dentries, inodes
	"$LOOP" "$LOAD" "$W" "$OPS" >/dev/null
	for r in $(seq "$ROUNDS"); do
		record none.unwatched "$(loop_ns "$U")"
		record none.watched "$(loop_ns "$W")"
		start_floor
		record floor.unwatched "$(loop_ns "$U")"
		record floor.watched "$(loop_ns "$W")"
		stop_floor
		for mode in bpf hybrid hybrid-exact fanotify; do
			start_vigil "$mode"
			record "$mode.unwatched" "$(loop_ns "$U")"
			record "$mode.watched" "$(loop_ns "$W")"
			stop_vigil
		done
		if [ "$have_auditd" = 1 ]; then
			auditctl -w "$W" -p wa -k vigilbench >/dev/null
			record auditd.unwatched "$(loop_ns "$U")"
			record auditd.watched "$(loop_ns "$W")"
			auditctl -W "$W" -p wa -k vigilbench >/dev/null
		fi
		echo "$fstype: round $r of $ROUNDS done" >&2
	done

	echo
	echo "$fstype ($1): open+write(64 B)+close ($LOAD), $OPS ops per run, median of $ROUNDS interleaved rounds"
	printf '%-12s %12s %10s %10s %12s %10s %10s\n' watcher "unwatched ns" "+ns/op" "overhead" \
		"watched ns" "+ns/op" "overhead"
	base_u=$(median <<<"${res[none.unwatched]}")
	base_w=$(median <<<"${res[none.watched]}")
	for who in none floor bpf hybrid hybrid-exact fanotify auditd; do
		[ -n "${res[$who.unwatched]:-}" ] || continue
		u=$(median <<<"${res[$who.unwatched]}")
		w=$(median <<<"${res[$who.watched]}")
		printf '%-12s %12.1f %10.1f %9.1f%% %12.1f %10.1f %9.1f%%\n' "$who" \
			"$u" "$(echo "$u - $base_u" | bc -l)" "$(echo "($u / $base_u - 1) * 100" | bc -l)" \
			"$w" "$(echo "$w - $base_w" | bc -l)" "$(echo "($w / $base_w - 1) * 100" | bc -l)"
	done
	[ "$have_auditd" = 1 ] || echo "auditd: could not run here; no auditd row"
	echo "floor: empty programs on sys_enter/sys_exit; no tracepoint design can cost less"
	echo "hybrid, fanotify: busy files coalesced (--coalesce-ms 1000); hybrid-exact: every write named"
	echo "goals: <= 3% on unwatched paths, <= 15% on watched"
}

for d in $FSDIRS; do
	bench_fs "$d"
done

# Delivery: one chmod is one event; the storm runs on one core, vigil on the other.
start_vigil bpf
out=$("$LOOP" chmod "$W" "$STORM")
sleep 1
stop_vigil
ns=$(sed -E 's/ns_per_op=([0-9.]+).*/\1/' <<<"$out")
delivered=$(grep -Eo '[0-9]+ events delivered' "$log" | grep -Eo '^[0-9]+')
dropped=$(grep -Eo 'dropped: [0-9]+' "$log" | grep -Eo '[0-9]+$')
secs=$(echo "$ns * $STORM / 1000000000" | bc -l)
echo
printf 'chmod storm: %d ops in %.2f s; vigil (bpf) delivered %d events (%.0f events/s), dropped %d\n' \
	"$STORM" "$secs" "$delivered" "$(echo "$delivered / $secs" | bc -l)" "$dropped"
echo "goal: >= 200000 events/s delivered without drops"
