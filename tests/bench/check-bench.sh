#!/usr/bin/env bash
# check-bench.sh: how fast `vigil check` evaluates its default baseline on
# this host, next to OpenSCAP (oscap + Debian's SCAP Security Guide) and Lynis.
#
# A benchmark, not a test: it never fails on a timing. It exits non-zero only
# when a selected tool could not run at all (or on bad usage).
#
#   tests/bench/check-bench.sh [VIGIL_BINARY]      (default: build/sensor/vigil)
#
# Environment:
#   BENCH_ROUNDS=N          interleaved rounds per tool (default 5)
#   BENCH_TOOLS="a b"       subset of "vigil oscap lynis" (default: all three)
#   BENCH_OSCAP_DS=FILE     SCAP source datastream (default: picked, see below)
#   BENCH_OSCAP_PROFILE=P   XCCDF profile id or its short name (default: standard)
#   BENCH_KEEP_TMP=1        keep the temporary directory (its path is printed)
#
# See tests/bench/README.md for what it prints and how the checks are counted.
# shellcheck disable=SC1091,SC2317  # os-release is sourced; count_* are called as "count_$t"
set -euo pipefail
export LC_ALL=C            # stable number formats (EPOCHREALTIME, printf)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
vigil_bin=${1:-$repo_root/build/sensor/vigil}
rounds=${BENCH_ROUNDS:-5}
read -r -a tools <<<"${BENCH_TOOLS:-vigil vquick oscap lynis}"
ssg_dir=/usr/share/xml/scap/ssg/content

log()  { printf '[check-bench] %s\n' "$*" >&2; }
warn() { printf '[check-bench] warning: %s\n' "$*" >&2; }
die()  { printf '[check-bench] error: %s\n' "$*" >&2; exit 2; }

[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer, got '$rounds'"
((${#tools[@]})) || die "BENCH_TOOLS is empty"
for t in "${tools[@]}"; do
	case $t in vigil|vquick|oscap|lynis) ;; *) die "unknown tool '$t' in BENCH_TOOLS (vigil, vquick, oscap, lynis)";; esac
done
[[ $vigil_bin == /* ]] || vigil_bin=$PWD/$vigil_bin

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-check-bench.XXXXXX")
cleanup() {
	if [[ ${BENCH_KEEP_TMP:-0} == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A failed=()     # tool -> why it could not run at all
declare -A note=()       # tool -> how its checks were counted

# ---- packages -------------------------------------------------------------
apt_updated=0
is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
# ensure_pkgs PKG...: installs the missing ones; apt-get update only when the
# install failed for lack of (current) package lists.
ensure_pkgs() {
	local missing=() p
	for p; do is_installed "$p" || missing+=("$p"); done
	((${#missing[@]})) || return 0
	if ((EUID != 0)); then
		warn "missing packages (${missing[*]}) and not root: cannot install them"
		return 1
	fi
	log "installing ${missing[*]}"
	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}")
	if "${apt[@]}" >"$tmp/apt.log" 2>&1; then return 0; fi
	if ((apt_updated == 0)) &&
		grep -qE 'Unable to locate package|has no installation candidate|Failed to fetch|404 +Not Found' "$tmp/apt.log"; then
		log "package lists missing or stale: apt-get update"
		apt_updated=1
		apt-get update -q >"$tmp/apt-update.log" 2>&1 || { tail -n 5 "$tmp/apt-update.log" >&2; }
		"${apt[@]}" >"$tmp/apt.log" 2>&1 && return 0
	fi
	tail -n 5 "$tmp/apt.log" >&2
	return 1
}

has_tool() { [[ " ${tools[*]} " == *" $1 "* ]]; }

ensure_pkgs time || die "GNU time (/usr/bin/time) is needed to measure peak RSS"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing"

# vquick is `vigil check --quick`: the same baseline without the checks
# that walk the whole file system (their cost is the size of the tree).
for v in vigil vquick; do
	has_tool $v || continue
	ensure_pkgs jq || failed[$v]="package jq could not be installed"
	if [[ ! -x $vigil_bin ]]; then
		failed[$v]="no executable at $vigil_bin (build it, or pass its path as \$1)"
	fi
done
if has_tool oscap; then
	ensure_pkgs openscap-scanner ssg-debian libxml2-utils ||
		failed[oscap]="packages openscap-scanner ssg-debian libxml2-utils could not be installed"
fi
if has_tool lynis; then
	ensure_pkgs lynis || failed[lynis]="package lynis could not be installed"
	((EUID == 0)) || warn "not root: lynis runs fewer tests, vigil and oscap read less"
fi

# ---- oscap: datastream and profile ----------------------------------------
host_id=$(. /etc/os-release && echo "${ID:-}")
host_ver=$(. /etc/os-release && echo "${VERSION_ID:-}")
host_major=${host_ver%%.*}
oscap_ds="" oscap_profile="" oscap_ds_note=""

pick_datastream() {
	if [[ -n ${BENCH_OSCAP_DS:-} ]]; then
		[[ -r $BENCH_OSCAP_DS ]] || { failed[oscap]="BENCH_OSCAP_DS=$BENCH_OSCAP_DS is not readable"; return; }
		oscap_ds=$BENCH_OSCAP_DS oscap_ds_note="given by BENCH_OSCAP_DS"
		return
	fi
	[[ $host_id == debian ]] || warn "host is '$host_id', not debian: most SSG Debian rules will be notapplicable"
	if [[ -n $host_major && -r $ssg_dir/ssg-debian$host_major-ds.xml ]]; then
		oscap_ds=$ssg_dir/ssg-debian$host_major-ds.xml oscap_ds_note="SSG content for Debian $host_major"
		return
	fi
	# No content for this release (bookworm's ssg-debian 0.1.65 stops at
	# Debian 11): take the newest older one and let its OS check accept this
	# release too, or every rule would be notapplicable.
	local best="" n=-1 f v
	for f in "$ssg_dir"/ssg-debian[0-9]*-ds.xml; do
		[[ -e $f ]] || continue
		v=${f##*/ssg-debian}; v=${v%-ds.xml}
		[[ $v =~ ^[0-9]+$ ]] || continue
		if [[ -n $host_major && $host_major =~ ^[0-9]+$ ]] && ((v > host_major)); then continue; fi
		((v > n)) && { n=$v; best=$f; }
	done
	[[ -n $best ]] || { failed[oscap]="no ssg-debianNN-ds.xml under $ssg_dir"; return; }
	if [[ $host_id == debian && $host_major =~ ^[0-9]+$ ]]; then
		oscap_ds=$tmp/ssg-debian$n-as-$host_major-ds.xml
		# The CPE check reads /etc/debian_version against ^NN.[0-9]+$
		sed -E "s/\\^$n\\.\\[0-9\\]\\+\\\$/^($n|$host_major)\\\\.[0-9]+\$/" "$best" >"$oscap_ds"
		if grep -q "\\^($n|$host_major)" "$oscap_ds"; then
			oscap_ds_note="no Debian $host_major content in ssg-debian; ${best##*/} with its Debian $n OS check widened to $host_major"
		else
			warn "could not widen the Debian $n platform check in ${best##*/}; its rules will be notapplicable here"
			oscap_ds=$best oscap_ds_note="${best##*/} unmodified (platform check not found)"
		fi
	else
		oscap_ds=$best oscap_ds_note="${best##*/} unmodified"
	fi
}

pick_profile() {
	local want=${BENCH_OSCAP_PROFILE:-standard} ids
	ids=$(oscap info "$oscap_ds" 2>/dev/null | sed -n 's/^[[:space:]]*Id: \(xccdf_.*_profile_.*\)$/\1/p' | sort -u) || true
	[[ -n $ids ]] || { failed[oscap]="oscap info lists no profile in $oscap_ds"; return; }
	local id
	for id in "$want" "xccdf_org.ssgproject.content_profile_$want"; do
		if grep -qxF -- "$id" <<<"$ids"; then oscap_profile=$id; return; fi
	done
	if [[ -n ${BENCH_OSCAP_PROFILE:-} ]]; then
		failed[oscap]="profile '$want' is not in ${oscap_ds##*/} (has: $(tr '\n' ' ' <<<"$ids"))"
		return
	fi
	oscap_profile=$(head -n 1 <<<"$ids")
	warn "no 'standard' profile in ${oscap_ds##*/}; using $oscap_profile"
}

if has_tool oscap && [[ -z ${failed[oscap]:-} ]]; then
	pick_datastream
	[[ -n ${failed[oscap]:-} ]] || pick_profile
	[[ -n ${failed[oscap]:-} ]] || log "oscap: ${oscap_profile##*_profile_} profile of ${oscap_ds##*/} ($oscap_ds_note)"
fi

median_ms() { sort -n | awk '{a[NR]=$1} END{ if (NR%2) m=a[(NR+1)/2]; else m=(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000 }'; }

# ---- one run of one tool --------------------------------------------------
# run_tool TOOL ROUND: runs it under /usr/bin/time -v; appends the wall time
# (µs) and peak RSS (kB) of a good run to $tmp/TOOL.times, or returns 1.
run_tool() {
	local t=$1 r=$2 dir=$tmp/$1 rc=0 t0 t1
	mkdir -p "$dir"
	local cmd=()
	case $t in
	floor) cmd=(/bin/true) ;;
	vigil) cmd=("$vigil_bin" check --format json) ;;
	vquick) cmd=("$vigil_bin" check --quick --format json) ;;
	oscap)
		rm -f "$dir/results.xml"
		cmd=(oscap xccdf eval --profile "$oscap_profile" --results "$dir/results.xml" "$oscap_ds") ;;
	lynis)
		rm -f "$dir/report.dat" "$dir/lynis.log"
		cmd=(lynis audit system --quick --no-colour --logfile "$dir/lynis.log" --report-file "$dir/report.dat") ;;
	esac
	t0=$EPOCHREALTIME
	/usr/bin/time -v -o "$dir/time.txt" "${cmd[@]}" >"$dir/stdout" 2>"$dir/stderr" </dev/null || rc=$?
	t1=$EPOCHREALTIME
	local us=$(( ${t1/./} - ${t0/./} ))
	local rss
	rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$dir/time.txt")
	echo "$rc" >"$dir/rc"

	# Did it run? Judge by what it wrote, not only by its exit status:
	# oscap exits 2 when a rule failed, vigil may exit non-zero likewise.
	local ok=1
	case $t in
	floor) ((rc == 0)) || ok=0 ;;
	vigil|vquick) # one JSON object (jq 1.6 -e says yes to an empty file, hence -n)
		jq -n -e '[inputs] | length == 1 and (.[0].checks | type == "array") and (.[0].summary | type == "object")' \
			"$dir/stdout" >/dev/null 2>&1 || ok=0 ;;
	oscap) [[ ($rc == 0 || $rc == 2) && -s $dir/results.xml ]] || ok=0 ;;
	lynis) [[ $rc == 0 && -s $dir/report.dat ]] && grep -q '^tests_executed=' "$dir/report.dat" || ok=0 ;;
	esac
	if ((!ok)); then
		warn "$t round $r: did not run (exit $rc); last lines of its stderr:"
		tail -n 5 "$dir/stderr" | sed 's/^/    /' >&2
		return 1
	fi
	# The counts come from the last good run's output.
	case $t in
	vigil|vquick) cp -f "$dir/stdout" "$dir/good" ;;
	oscap) cp -f "$dir/results.xml" "$dir/good" ;;
	lynis) cp -f "$dir/report.dat" "$dir/good" ;;
	esac
	echo "$us ${rss:-0}" >>"$tmp/$t.times"
	awk -v t="$t" -v r="$r" -v u="$us" -v k="${rss:-0}" -v rc="$rc" \
		'BEGIN{ printf "[check-bench]   %-6s round %d: %9.1f ms  %7.1f MB  (exit %d)\n", t, r, u / 1000, k / 1024, rc }' >&2
}

# ---- warm the file cache ----------------------------------------------------
active=()
for t in "${tools[@]}"; do [[ -n ${failed[$t]:-} ]] || active+=("$t"); done

log "warming the file cache"
warm=(/etc /var/lib/dpkg/status /usr/share/ca-certificates)
has_tool vigil && warm+=("$repo_root/baselines" "$vigil_bin")
has_tool oscap && [[ -n $oscap_ds ]] && warm+=("$oscap_ds" /usr/bin/oscap /usr/lib/x86_64-linux-gnu/libopenscap.so*)
has_tool lynis && warm+=(/usr/share/lynis /usr/sbin/lynis)
for p in "${warm[@]}"; do
	[[ -e $p ]] && find "$p" -xdev -type f -readable -print0 2>/dev/null
done | xargs -0 -r cat >/dev/null 2>&1 || true
# One untimed run of the quick tools (Lynis takes minutes: its first round
# is its warm-up, and the median absorbs it). A tool that fails here is out.
for t in "${active[@]}"; do
	[[ $t == lynis ]] && continue
	log "warm-up run: $t"
	if ! run_tool "$t" 0; then failed[$t]="its warm-up run failed (see above)"; fi
	rm -f "$tmp/$t.times"
done

# ---- interleaved rounds ------------------------------------------------------
active=()
for t in "${tools[@]}"; do [[ -n ${failed[$t]:-} ]] || active+=("$t"); done
declare -A bad_runs=()
# "floor": /bin/true under the same wrapper, i.e. what starting a process
# and measuring it costs here; every wall time below includes it.
((${#active[@]})) && active+=(floor)
n=${#active[@]}
if ((n)); then
	log "$rounds round(s) of: ${active[*]} (order rotates each round)"
	for ((r = 1; r <= rounds; r++)); do
		for ((i = 0; i < n; i++)); do
			t=${active[$(((i + r - 1) % n))]}
			run_tool "$t" "$r" || bad_runs[$t]=$((${bad_runs[$t]:-0} + 1))
		done
	done
fi
for t in "${active[@]}"; do
	[[ -s $tmp/$t.times ]] || failed[$t]="none of its $rounds run(s) succeeded"
done
floor_ms=""
if [[ -s $tmp/floor.times ]]; then floor_ms=$(cut -d' ' -f1 "$tmp/floor.times" | median_ms); fi

# ---- counting checks (from each tool's last good run) -----------------------
declare -A evaluated=() decided=()
count_vigil() {
	local v=${1:-vigil} f=$tmp/${1:-vigil}/good
	evaluated[$v]=$(jq '.checks | length' "$f")
	decided[$v]=$(jq '(.summary.passed // 0) + (.summary.failed // 0)' "$f")
	note[$v]=$(jq -r '"\(.checks | length) checks: \(.summary.passed) passed, \(.summary.failed) failed, \(.summary.not_applicable) not_applicable, \(.summary.errors) errors, \(.summary.skipped // 0) left out by --quick; score \(.summary.score)"' "$f")
}
count_vquick() { count_vigil vquick; }
count_oscap() {
	local f=$tmp/oscap/good total k c per="" sel_out
	local x='//*[local-name()="TestResult"]/*[local-name()="rule-result"]'
	total=$(xmllint --xpath "count($x)" "$f")
	declare -A by=()
	for k in pass fail error unknown notapplicable notchecked notselected informational fixed; do
		c=$(xmllint --xpath "count($x/*[local-name()=\"result\"][normalize-space()=\"$k\"])" "$f")
		by[$k]=$c
		((c)) && per+="$c $k, "
	done
	sel_out=$((total - by[notselected]))
	evaluated[oscap]=$((sel_out - by[notapplicable]))
	decided[oscap]=$((by[pass] + by[fail]))
	note[oscap]="${evaluated[oscap]} evaluated = $total rule-results - ${by[notselected]} notselected - ${by[notapplicable]} notapplicable (${per%, }); $sel_out rules in profile ${oscap_profile##*_profile_}"
}
count_lynis() {
	local f=$tmp/lynis/good done_n skipped
	evaluated[lynis]=$(sed -n 's/^tests_executed=//p' "$f" | tr '|' '\n' | grep -c . || true)
	skipped=$(sed -n 's/^tests_skipped=//p' "$f" | tr '|' '\n' | grep -c . || true)
	done_n=$(sed -n 's/^lynis_tests_done=//p' "$f")
	decided[lynis]=-
	note[lynis]="${evaluated[lynis]} test ids in tests_executed= (lynis_tests_done=${done_n:-?}), $skipped in tests_skipped=; $(grep -c '^warning\[\]=' "$f" || true) warnings, $(grep -c '^suggestion\[\]=' "$f" || true) suggestions, hardening index $(sed -n 's/^hardening_index=//p' "$f")"
}

# ---- table -----------------------------------------------------------------
declare -A med=() cps=()
echo
echo "vigil check benchmark: $(hostname), $(. /etc/os-release && echo "$PRETTY_NAME"), $(nproc) cpu, $rounds round(s)"
printf '%-6s %10s %8s %11s %21s %11s %9s\n' tool checks decided "median ms" "min..max ms" "checks/s" "peak MB"
printf '%-6s %10s %8s %11s %21s %11s %9s\n' ------ ---------- -------- ----------- --------------------- ----------- ---------
for t in "${tools[@]}"; do
	if [[ -n ${failed[$t]:-} ]]; then
		printf '%-6s %s\n' "$t" "could not run: ${failed[$t]}"
		continue
	fi
	"count_$t"
	med[$t]=$(cut -d' ' -f1 "$tmp/$t.times" | median_ms)
	range=$(cut -d' ' -f1 "$tmp/$t.times" | sort -n | awk 'NR==1{lo=$1} {hi=$1} END{printf "%.1f..%.1f", lo/1000, hi/1000}')
	peak=$(cut -d' ' -f2 "$tmp/$t.times" | sort -n | tail -n 1 | awk '{printf "%.1f", $1/1024}')
	cps[$t]=$(awk -v c="${evaluated[$t]}" -v m="${med[$t]}" 'BEGIN{ if (m > 0) printf "%.1f", c * 1000 / m; else print "inf" }')
	printf '%-6s %10s %8s %11s %21s %11s %9s\n' "$t" "${evaluated[$t]}" "${decided[$t]}" "${med[$t]}" "$range" "${cps[$t]}" "$peak"
done
echo
if [[ -n $floor_ms ]]; then
	echo "floor: /usr/bin/time -v /bin/true, run the same way each round, takes a median $floor_ms ms here (process start-up and measuring); every wall time above includes it."
fi
for t in "${tools[@]}"; do
	if [[ -n ${note[$t]:-} ]]; then echo "$t: ${note[$t]}"; fi
	if [[ -n ${bad_runs[$t]:-} ]]; then echo "$t: ${bad_runs[$t]} of $rounds run(s) failed and are not in the timings"; fi
done
if [[ -n $oscap_profile ]]; then echo "oscap: profile $oscap_profile, ${oscap_ds##*/} ($oscap_ds_note)"; fi
echo "peak MB: GNU time's maximum resident set size, i.e. of the largest single process$(has_tool lynis && echo "; for lynis, a shell script, that is its biggest child, not the sum")."

for v in vigil vquick; do
	[[ -n ${cps[$v]:-} ]] || continue
	for t in oscap lynis; do
		[[ -n ${cps[$t]:-} ]] || continue
		awk -v a="${cps[$v]}" -v b="${cps[$t]}" -v t="$t" -v v="$v" \
			'BEGIN{ if (b > 0) printf "%s checks/s / %s checks/s = %.1fx\n", v, t, a / b; else printf "%s checks/s / %s checks/s = n/a (%s evaluated no check)\n", v, t, t }'
	done
	if ((evaluated[$v] >= 150)) && awk -v m="${med[$v]}" 'BEGIN{exit !(m <= 100)}'; then
		verdict=MET
	else
		verdict="NOT met"
		if ((evaluated[$v] >= 150)) && [[ -n $floor_ms ]] &&
			awk -v m="${med[$v]}" -v f="$floor_ms" 'BEGIN{exit !(m - f <= 100)}'; then
			verdict+=" (met without the ${floor_ms} ms floor)"
		fi
	fi
	echo "goal >= 150 checks in <= 100 ms: $verdict by $v (${evaluated[$v]} checks, ${decided[$v]} decided, median ${med[$v]} ms)"
	((decided[$v] >= 150)) || echo "  (note: only ${decided[$v]} of them were decided passed/failed)"
done

rc=0
for t in "${tools[@]}"; do [[ -z ${failed[$t]:-} ]] || rc=1; done
exit $rc
