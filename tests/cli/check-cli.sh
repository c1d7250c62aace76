#!/usr/bin/env bash
# check-cli.sh VIGIL: the vigil binary as a user runs it: exit codes,
# output formats, filters, and hostile baselines refused whole.
set -uo pipefail
VIGIL=${1:?usage: check-cli.sh VIGIL}
PY=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
json_get() {	# FILE PYTHON-EXPR over d
	"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# A small image with a known verdict for each check.
img=$tmp/img
mkdir -p "$img/etc/ssh"
printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Test Image"\n' >"$img/etc/os-release"
echo imagehost >"$img/etc/hostname"
printf 'root:x:0:0::/root:/bin/bash\n' >"$img/etc/passwd"
printf 'root:x:0:\n' >"$img/etc/group"
chmod 644 "$img/etc/passwd"
printf 'PermitRootLogin yes\n' >"$img/etc/ssh/sshd_config"
cat >"$tmp/b.yaml" <<'Y'
id: cli
name: CLI test
version: '1'
platforms: [{id: debian, versions: ['12']}]
checks:
  - id: pass-1
    section: A
    title: passwd is not writable by others
    severity: low
    compliance: {cis: [{id: '7.1.1', level: 1}], nist_800_53: [AC-3]}
    all: [{file: {path: /etc/passwd, mode_max: '0644'}}]
  - id: fail-1
    section: B
    title: root cannot log in over ssh
    severity: high
    remediation: "Set PermitRootLogin no\nin /etc/ssh/sshd_config"
    all: [{conf: {format: sshd, key: PermitRootLogin, expect: {equals: 'no'}}}]
  - id: na-1
    section: B
    title: running sysctl
    severity: critical
    all: [{sysctl: {key: kernel.randomize_va_space, source: runtime, expect: {equals: '2'}}}]
Y

expect_rc 0 "version" -- "$VIGIL" --version
expect_in "$tmp/out" "vigil " "version"
expect_rc 2 "no command" -- "$VIGIL"
expect_rc 2 "unknown command" -- "$VIGIL" frobnicate
expect_rc 2 "bad format" -- "$VIGIL" check --format xml
expect_rc 2 "bad severity" -- "$VIGIL" check --severity extreme
expect_rc 2 "missing root" -- "$VIGIL" check --root /nonexistent/root --baseline "$tmp/b.yaml"
expect_in "$tmp/err" "/nonexistent/root" "missing root"
expect_rc 2 "unknown baseline name" -- "$VIGIL" check --baseline no-such-baseline
expect_in "$tmp/err" "no baseline named 'no-such-baseline'" "unknown baseline"
expect_rc 2 "unknown --only id" -- "$VIGIL" check --root "$img" --baseline "$tmp/b.yaml" --only nope
expect_in "$tmp/err" "no check 'nope'" "unknown --only id"

# Text report: failures first with remediation, score line, no colour off a TTY.
expect_rc 1 "text run with a failure" -- "$VIGIL" check --root "$img" --baseline "$tmp/b.yaml"
expect_in "$tmp/out" "FAIL  root cannot log in over ssh" "text failure line"
expect_in "$tmp/out" "in /etc/ssh/sshd_config" "remediation's second line"
expect_in "$tmp/out" "Score 50.0%: 1 passed, 1 failed, 1 not applicable, 0 errors" "score line"
expect_in "$tmp/out" "offline: checking the image at $img" "offline banner"
if grep -q $'\033' "$tmp/out"; then bad "colour codes when stdout is not a TTY"; else ok; fi

# JSON report: the documented shape, parsed by an independent parser.
expect_rc 1 "json run" -- "$VIGIL" check --root "$img" --baseline "$tmp/b.yaml" --format json
cp "$tmp/out" "$tmp/r.json"
[ "$(json_get "$tmp/r.json" "d['summary']")" = "{'passed': 1, 'failed': 1, 'not_applicable': 1, 'errors': 0, 'skipped': 0, 'score': 50.0}" ] && ok || bad "json summary: $(json_get "$tmp/r.json" "d['summary']")"
[ "$(json_get "$tmp/r.json" "[c['status'] for c in d['checks']]")" = "['passed', 'failed', 'not_applicable']" ] && ok || bad "json statuses"
[ "$(json_get "$tmp/r.json" "d['checks'][0]['compliance']")" = "{'cis': [{'id': '7.1.1', 'level': 1}], 'nist_800_53': ['AC-3']}" ] && ok || bad "json compliance"
[ "$(json_get "$tmp/r.json" "sorted(d['checks'][1].keys())")" = "['compliance', 'description', 'evidence', 'evidence_omitted', 'id', 'rationale', 'remediation', 'section', 'severity', 'status', 'title']" ] && ok || bad "json check keys: $(json_get "$tmp/r.json" "sorted(d['checks'][1].keys())")"
[ "$(json_get "$tmp/r.json" "d['host']['hostname'], d['host']['live'], d['host']['os']")" = "imagehost False Test Image" ] && ok || bad "json host"
json_get "$tmp/r.json" "d['checks'][1]['evidence'][0]" | grep -q 'sshd_config:1: PermitRootLogin = "yes"' && ok || bad "json evidence"

# Filters.
expect_rc 0 "--only a passing check" -- "$VIGIL" check --root "$img" --baseline "$tmp/b.yaml" --only pass-1 --format json
[ "$(json_get "$tmp/out" "[c['id'] for c in d['checks']]")" = "['pass-1']" ] && ok || bad "--only output"
expect_rc 1 "--severity high" -- "$VIGIL" check --root "$img" --baseline "$tmp/b.yaml" --severity high --format json
[ "$(json_get "$tmp/out" "[c['id'] for c in d['checks']]")" = "['fail-1', 'na-1']" ] && ok || bad "--severity output"

# --quick leaves out what walks the whole file system, and says so.
cat >"$tmp/q.yaml" <<'Y'
id: q
name: quick
version: '1'
checks:
  - {id: walk, title: no world-writable files, all: [{fs_search: {find: world_writable, paths: [/etc]}}]}
  - {id: nested-walk, title: t, any: [{all: [{fs_search: {find: suid, paths: [/etc]}}]}]}
  - {id: plain, title: passwd mode, all: [{file: {path: /etc/passwd, mode_max: '0644'}}]}
Y
expect_rc 0 "--quick" -- "$VIGIL" check --root "$img" --baseline "$tmp/q.yaml" --quick --format json
[ "$(json_get "$tmp/out" "[c['id'] for c in d['checks']], d['summary']['skipped']")" = "['plain'] 2" ] && ok || bad "--quick output: $(json_get "$tmp/out" "[c['id'] for c in d['checks']], d['summary']['skipped']")"
expect_rc 0 "--quick text" -- "$VIGIL" check --root "$img" --baseline "$tmp/q.yaml" --quick
expect_in "$tmp/out" "--quick: 2 filesystem-wide check(s) left out" "--quick note"

# Selection by os-release, from a baseline directory.
mkdir -p "$tmp/dir"
cp "$tmp/b.yaml" "$tmp/dir/cli.yaml"
sed -e 's/^id: cli/id: other/' -e "s/id: debian, versions: \['12'\]/id: fedora/" "$tmp/b.yaml" >"$tmp/dir/aaa-other.yaml"
VIGIL_BASELINE_DIR=$tmp/dir expect_rc 1 "baseline picked by os-release" -- "$VIGIL" check --root "$img" --format json
[ "$(json_get "$tmp/out" "d['baseline']['id']")" = "cli" ] && ok || bad "picked baseline: $(json_get "$tmp/out" "d['baseline']['id']")"
VIGIL_BASELINE_DIR=$tmp/dir expect_rc 1 "baseline by name" -- "$VIGIL" check --root "$img" --baseline cli
# A baseline that names its platforms after its checks is still picked.
rm "$tmp/dir/cli.yaml"
{ grep -v '^platforms:' "$tmp/b.yaml"; echo "platforms: [{id: debian, versions: ['12']}]"; } >"$tmp/dir/late.yaml"
VIGIL_BASELINE_DIR=$tmp/dir expect_rc 1 "platforms after checks" -- "$VIGIL" check --root "$img" --format json
[ "$(json_get "$tmp/out" "d['baseline']['file'].endswith('late.yaml')")" = "True" ] && ok || bad "late platforms not picked"
printf 'ID=plan9\nVERSION_ID=4\n' >"$img/etc/os-release"
VIGIL_BASELINE_DIR=$tmp/dir expect_rc 2 "no baseline fits" -- "$VIGIL" check --root "$img"
expect_in "$tmp/err" "no baseline fits plan9 4" "no baseline fits"

# Configuration: a bad file is refused with its line; commands stay off by default.
printf 'checks:\n  allow_commands: maybe\n' >"$tmp/bad.conf"
expect_rc 2 "bad config" -- "$VIGIL" check --config "$tmp/bad.conf" --root "$img" --baseline "$tmp/b.yaml"
expect_in "$tmp/err" "bad.conf:2" "bad config line"

# Hostile baselines: refused whole with file:line, nothing on stdout.
hostile() {	# NAME EXPECTED-TEXT YAML
	printf '%s' "$3" >"$tmp/$1.yaml"
	expect_rc 2 "hostile $1" -- "$VIGIL" check --root "$img" --baseline "$tmp/$1.yaml"
	expect_in "$tmp/err" "$2" "hostile $1 message"
	if [ -s "$tmp/out" ]; then bad "hostile $1 printed results"; else ok; fi
}
head='id: h
name: h
version: 1
checks:
'
hostile yaml-error "started at line 6" "${head}  - id: a
    title: [unclosed
"
hostile unknown-rule "unknown-rule.yaml:7: unknown rule type 'shell'" "${head}  - id: a
    title: t
    all: [{shell: {cmd: id}}]
"
hostile bad-regex "bad-regex.yaml:7: bad regex" "${head}  - id: a
    title: t
    all: [{line: {path: /etc/passwd, match: 'a[z-a]'}}]
"
hostile missing-id "missing-id.yaml:5: a check needs an id" "${head}  - title: t
    all: [{file: {path: /etc/passwd}}]
"
hostile duplicate-id "duplicate-id.yaml:6: duplicate check id 'a'" "${head}  - {id: a, title: t, all: [{file: {path: /etc/passwd}}]}
  - {id: a, title: t, all: [{file: {path: /etc/passwd}}]}
"
printf 'id: c1\nname: c\nversion: 1\ninclude: [c2]\nchecks: []\n' >"$tmp/c1.yaml"
printf 'id: c2\nname: c\nversion: 1\ninclude: [c1]\nchecks: []\n' >"$tmp/c2.yaml"
expect_rc 2 "include cycle" -- "$VIGIL" check --root "$img" --baseline "$tmp/c1.yaml"
expect_in "$tmp/err" "c2.yaml:4: include cycle" "include cycle message"
head -c 5000000 /dev/zero | tr '\0' '#' >"$tmp/huge.yaml"
expect_rc 2 "huge baseline" -- "$VIGIL" check --root "$img" --baseline "$tmp/huge.yaml"
expect_in "$tmp/err" "larger than the 4 MiB" "huge baseline message"

# The live host, with the shipped baselines: runs whole and reports JSON.
rc=0
"$VIGIL" check --format json >"$tmp/live.json" 2>"$tmp/err" || rc=$?
if [ "$rc" -le 1 ] && json_get "$tmp/live.json" "len(d['checks'])" >/dev/null; then ok; else bad "live run: exit $rc $(head -3 "$tmp/err")"; fi
[ "$(json_get "$tmp/live.json" "d['host']['live']")" = "True" ] && ok || bad "live run not live"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
