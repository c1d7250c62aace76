#!/usr/bin/env bash
# Every test, from a clean clone, as root:
#   1. the normal build: unit, fuzz-corpus replay, whole-program (cli) tests
#   2. an ASan+UBSan build: the same tests again
#   3. the .deb and .rpm, built from a /usr tree and installed into a Debian 12 root
#   4. clang + libFuzzer: each fuzz target for FUZZ_SECONDS (default 30)
# Ends with one line "tests: N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/deps.sh --test || exit 1

passed=0
failed=0
failures=()

# ctest's own closing line is "X% tests passed, F tests failed out of T".
count_ctest() {
	local log=$1 suite=$2 line total bad
	line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
		failures+=("$suite: ctest did not run")
		return
	fi
	total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
	bad=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
	passed=$((passed + total - bad))
	failed=$((failed + bad))
	[ "$bad" -eq 0 ] || failures+=("$suite: $bad of $total failed")
}

suite() {
	local name=$1 dir=$2 labels=$3
	shift 3
	echo "=== $name"
	if ! bash scripts/build.sh "$dir" "$@"; then
		failed=$((failed + 1))
		failures+=("$name: build failed")
		return
	fi
	local log
	log=$(mktemp)
	(cd "$dir" && ctest --output-on-failure ${labels:+-L "$labels"}) 2>&1 | tee "$log"
	count_ctest "$log" "$name"
	rm -f "$log"
}

# The packages: a tree for /usr (-DVIGIL_PACKAGE=ON) that builds only what
# the .deb and .rpm hold, then tests/pkg in it (ctest -L pkg): contents,
# dependencies, and install/upgrade/remove/purge in a Debian 12 root that
# debootstrap makes once (cached in /var/cache/vigil-test).
packages() {
	local dir=build-pkg log
	echo "=== packages (.deb, .rpm)"
	if ! cmake -S . -B "$dir" -DVIGIL_PACKAGE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ||
		! cmake --build "$dir" -j"$(nproc)" --target vigil_pkg_files; then
		failed=$((failed + 1))
		failures+=("packages: build failed")
		return
	fi
	log=$(mktemp)
	(cd "$dir" && ctest --output-on-failure -L pkg) 2>&1 | tee "$log"
	count_ctest "$log" "packages"
	rm -f "$log"
}

fuzz() {
	local dir=build-fuzz secs=${FUZZ_SECONDS:-30} t name corpus dict work
	echo "=== fuzz (libFuzzer, ${secs}s per target)"
	if ! CC=clang bash scripts/build.sh "$dir" -DVIGIL_FUZZ=ON -DVIGIL_SANITIZE=ON \
		-DCMAKE_BUILD_TYPE=Debug; then
		failed=$((failed + 1))
		failures+=("fuzz: build failed")
		return
	fi
	for t in "$dir"/tests/fuzz/fuzz_*; do
		[[ $t == *_replay ]] && continue
		[ -x "$t" ] || continue
		name=$(basename "$t" | sed 's/^fuzz_//')
		corpus=$root/tests/fuzz/corpus/$name
		dict=$root/tests/fuzz/$name.dict	# the YAML targets share yaml.dict
		[ -f "$dict" ] || dict=$root/tests/fuzz/yaml.dict
		work=$(mktemp -d)
		if "$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
			-dict="$dict" -artifact_prefix="$work/" \
			"$work" "$corpus" >"$work/log" 2>&1; then
			passed=$((passed + 1))
			echo "fuzz $(basename "$t"): $(grep -Eo 'Done [0-9]+ runs' "$work/log" | tail -1)"
		else
			failed=$((failed + 1))
			failures+=("fuzz $(basename "$t"): crashed; see below")
			tail -40 "$work/log"
			ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null
		fi
		rm -rf "$work"
	done
}

suite "build" build "" -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	suite "asan+ubsan" build-asan "" -DVIGIL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
packages
fuzz

echo
for f in "${failures[@]}"; do
	echo "FAILED: $f"
done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
