# lib.sh: what every whole-program test script shares. Source it after
# setting $tmp (a scratch directory the script removes).
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect_rc WANT DESC -- CMD...: runs CMD, keeps stdout/stderr in $tmp/out, $tmp/err
expect_rc() {
	local want=$1 desc=$2
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else bad "$desc: exit $rc, want $want; stderr: $(head -3 "$tmp/err")"; fi
}
expect_in() {	# FILE TEXT DESC
	if grep -qF -- "$2" "$1"; then ok; else bad "$3: no '$2' in $(basename "$1"): $(head -5 "$1")"; fi
}
