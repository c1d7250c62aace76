#!/usr/bin/env bash
# fim-bench.sh: `vigil fim` next to AIDE on the same files, with the same
# attributes and SHA-256 only: a baseline (init) and a check that finds
# nothing, timed side by side, with peak RSS.
#
# A benchmark, not a test: it never fails on a timing. It exits 1 when a
# tool could not run at all, 2 on bad usage.
#
#   tests/bench/fim-bench.sh [VIGIL_BINARY]      (default: build/sensor/vigil)
#
# Environment:
#   BENCH_ROUNDS=N         interleaved rounds (default 3)
#   BENCH_DIR=DIR          where the generated tree lives (default /var/tmp/vigil-fim-bench)
#   BENCH_THREADS=N        vigil's hash threads and AIDE's num_workers (default: cores)
#   BENCH_EXTRA=DIR        a real tree checked along (default /usr/lib; "" for none)
#   BENCH_KEEP_TMP=1       keep the temporary directory (its path is printed)
#
# See tests/bench/README.md for what it prints.
# shellcheck disable=SC2317  # cleanup runs from a trap
set -euo pipefail
export LC_ALL=C

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
vigil_bin=${1:-$repo_root/build/sensor/vigil}
rounds=${BENCH_ROUNDS:-3}
data=${BENCH_DIR:-/var/tmp/vigil-fim-bench}
threads=${BENCH_THREADS:-$(nproc)}
extra=${BENCH_EXTRA-/usr/lib}
tree_version=1                     # bump when the generator changes

log()  { printf '[fim-bench] %s\n' "$*" >&2; }
die()  { printf '[fim-bench] error: %s\n' "$*" >&2; exit 2; }

[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer, got '$rounds'"
[[ $threads =~ ^[1-9][0-9]*$ ]] || die "BENCH_THREADS must be a positive integer, got '$threads'"
[[ $vigil_bin == /* ]] || vigil_bin=$PWD/$vigil_bin
[[ -x $vigil_bin ]] || die "no vigil binary at $vigil_bin (build first, or pass its path)"
((EUID == 0)) || die "run as root: AIDE and vigil read files of every owner"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-fim-bench.XXXXXX")
cleanup() {
	if [[ ${BENCH_KEEP_TMP:-0} == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- packages -------------------------------------------------------------
is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
ensure_pkgs() {
	local missing=() p
	for p; do is_installed "$p" || missing+=("$p"); done
	((${#missing[@]})) || return 0
	log "installing ${missing[*]}"
	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}")
	"${apt[@]}" >"$tmp/apt.log" 2>&1 && return 0
	log "apt-get update, then again"
	apt-get update -q >"$tmp/apt-update.log" 2>&1 || true
	"${apt[@]}" >"$tmp/apt.log" 2>&1 && return 0
	tail -n 5 "$tmp/apt.log" >&2
	return 1
}
ensure_pkgs time aide python3 || { log "could not install time, aide, python3"; exit 1; }

# ---- the tree ---------------------------------------------------------------
# About 1 GB: 60,000 small files (256 B .. 8 kB) in 600 directories and 12
# files of 64 MiB, every byte derived from a fixed seed.
generate() {
	log "generating $data/tree (about 1 GB, once)"
	rm -rf "$data/tree" "$data/stamp"
	mkdir -p "$data/tree"
	python3 - "$data/tree" <<'PY'
import os, random, sys
root = sys.argv[1]
pool = random.Random(1).randbytes(1 << 20)
for d in range(600):
    sub = os.path.join(root, "small", f"d{d:03d}")
    os.makedirs(sub)
    for f in range(100):
        i = d * 100 + f
        size = 256 + (i * 7919) % 7937
        off = (i * 104729) % (len(pool) - size)
        with open(os.path.join(sub, f"f{f:03d}.dat"), "wb") as out:
            out.write(i.to_bytes(8, "little") + pool[off:off + size - 8])
big = os.path.join(root, "large")
os.makedirs(big)
for i in range(12):
    rnd = random.Random(1000 + i)
    with open(os.path.join(big, f"blob{i:02d}.bin"), "wb") as out:
        for _ in range(64):
            out.write(rnd.randbytes(1 << 20))
PY
	echo "$tree_version" >"$data/stamp"
}
[[ -f $data/stamp && $(cat "$data/stamp") == "$tree_version" ]] || generate
paths=("$data/tree")
[[ -n $extra ]] && paths+=("$extra")

# ---- configurations: the same attributes, SHA-256 only ---------------------
# AIDE: ftype p u g s i n m c l selinux caps sha256. vigil tracks the same
# ones (its "device" is left out: AIDE has none).
{
	echo "database_in=file:$tmp/aide.db"
	echo "database_out=file:$tmp/aide.db.new"
	echo "gzip_dbout=no"
	echo "num_workers=$threads"
	echo "report_url=stdout"
	echo "V = ftype+p+u+g+s+i+n+m+c+l+selinux+caps+sha256"
	# AIDE rules are regular expressions anchored at the start: "/usr/lib"
	# alone would take /usr/lib32 as well.
	# shellcheck disable=SC2001,SC2016  # sed escapes; $ is a regex anchor here
	for p in "${paths[@]}"; do printf '%s(/|$) V\n' "$(sed 's/[].[*^$()+?{|\\]/\\&/g' <<<"$p")"; done
} >"$tmp/aide.conf"
{
	echo "fim:"
	echo "  state_dir: $tmp/vigil-state"
	echo "  hash_threads: $threads"
	echo "  sets:"
	echo "    - name: bench"
	echo "      paths: [$(IFS=,; echo "${paths[*]}")]"
	echo "      attributes: [all, -device]"
} >"$tmp/vigil.yaml"
aide --config-check -c "$tmp/aide.conf" >/dev/null || { log "AIDE refuses its configuration"; exit 1; }

# ---- running ----------------------------------------------------------------
# Idle cache (data and metadata) is paged out here within a minute: every
# measured run is preceded by a read of every file, with one reused buffer
# (cat maps a new buffer per file and takes several times longer).
cat >"$tmp/warm.py" <<'PY'
import os, sys
buf = bytearray(1 << 20)
def walk(d):
    try:
        it = os.scandir(d)
    except OSError:
        return
    with it:
        for e in it:
            try:
                if e.is_dir(follow_symlinks=False):
                    walk(e.path)
                    continue
                e.stat(follow_symlinks=False)
                if not e.is_file(follow_symlinks=False):
                    continue
                fd = os.open(e.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                try:
                    while os.readv(fd, [buf]) == len(buf):
                        pass
                finally:
                    os.close(fd)
            except OSError:
                pass
for p in sys.argv[1:]:
    walk(p)
PY
warm() { python3 "$tmp/warm.py" "${paths[@]}"; }

declare -A times=() rss=() entries=()
failed=0
# run NAME CMD...: warms the cache, then appends wall seconds and peak RSS per name.
run() {
	local name=$1 t0 t1 rc=0 kb
	shift
	warm
	t0=$EPOCHREALTIME
	/usr/bin/time -v -o "$tmp/$name.time" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null || rc=$?
	t1=$EPOCHREALTIME
	case $name in
	aide-init) ((rc == 0)) || { log "aide --init failed ($rc)"; failed=1; } ;;
	aide-check) ((rc < 14)) || { log "aide --check failed ($rc)"; failed=1; } ;;
	vigil-*) ((rc <= 1)) || { log "$name failed ($rc): $(head -2 "$tmp/$name.err")"; failed=1; } ;;
	esac
	kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$tmp/$name.time")
	times[$name]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}') "
	((${kb:-0} > ${rss[$name]:-0})) && rss[$name]=$kb
	case $name in
	aide-init) entries[aide]=$(sed -n 's/^Number of entries:[[:space:]]*//p' "$tmp/$name.out" | head -1) ;;
	vigil-init) entries[vigil]=$(grep -o '[0-9]* entries' "$tmp/$name.out" | head -1 | cut -d' ' -f1) ;;
	esac
	return 0
}
vigil_fim=("$vigil_bin" fim --config "$tmp/vigil.yaml" --no-progress)
aide=(aide -c "$tmp/aide.conf")
last() { awk '{print $NF}' <<<"$1"; }
aide_init() {
	run aide-init "${aide[@]}" --init
	mv -f "$tmp/aide.db.new" "$tmp/aide.db" 2>/dev/null || true
}

log "rounds: $rounds; threads: $threads; paths: ${paths[*]}"
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then
		run vigil-init "${vigil_fim[@]}" init; aide_init
		run vigil-check "${vigil_fim[@]}" check; run aide-check "${aide[@]}" --check
	else
		aide_init; run vigil-init "${vigil_fim[@]}" init
		run aide-check "${aide[@]}" --check; run vigil-check "${vigil_fim[@]}" check
	fi
	log "round $r: init aide $(last "${times[aide-init]}") s, vigil $(last "${times[vigil-init]}") s;" \
	    "check aide $(last "${times[aide-check]}") s, vigil $(last "${times[vigil-check]}") s"
done

# ---- the table ----------------------------------------------------------------
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
range() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk 'NR==1{lo=$1} {hi=$1} END{printf "%s..%s", lo, hi}'; }

echo
echo "vigil fim vs AIDE $(aide --version 2>&1 | head -1 | awk '{print $2}'): ${paths[*]}; $rounds rounds, cache warm, $threads threads/workers each"
echo
printf '| %-9s | %-5s | %9s | %-17s | %12s | %8s |\n' operation tool "median s" "min..max s" "peak RSS MB" entries
printf '|%s|\n' "-----------|-------|-----------|-------------------|--------------|----------"
for op in init check; do
	for tool in aide vigil; do
		n=$tool-$op
		printf '| %-9s | %-5s | %9.3f | %-17s | %12.1f | %8s |\n' "$op" "$tool" \
			"$(median "${times[$n]}")" "$(range "${times[$n]}")" \
			"$(awk -v k="${rss[$n]:-0}" 'BEGIN{print k/1024}')" "${entries[$tool]:-?}"
	done
done
echo
ratio() { awk -v a="$(median "${times[aide-$1]}")" -v v="$(median "${times[vigil-$1]}")" 'BEGIN{printf "%.1f", a/v}'; }
ri=$(ratio init)
rc=$(ratio check)
vr=$(awk -v k="$(( ${rss[vigil-init]:-0} > ${rss[vigil-check]:-0} ? ${rss[vigil-init]:-0} : ${rss[vigil-check]:-0} ))" 'BEGIN{printf "%.1f", k/1024}')
goal() { awk -v x="$1" -v g="$2" 'BEGIN{print (x >= g) ? "met" : "MISSED"}'; }
echo "init:  vigil is ${ri}x faster than AIDE (goal >= 3x: $(goal "$ri" 3))"
echo "check: vigil is ${rc}x faster than AIDE (goal >= 30x: $(goal "$rc" 30))"
echo "RSS:   vigil peaks at $vr MB for ${entries[vigil]:-?} entries (goal <= 20 MB for 150k: $(awk -v r="$vr" 'BEGIN{print (r <= 20) ? "met" : "MISSED"}'))"
exit "$failed"
