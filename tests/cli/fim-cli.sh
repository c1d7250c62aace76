#!/usr/bin/env bash
# fim-cli.sh VIGIL: `vigil fim` as a user runs it: exit codes, formats,
# one baseline per root, private state, errors with file:line.
set -uo pipefail
VIGIL=${1:?usage: fim-cli.sh VIGIL}
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

img=$tmp/img
mkdir -p "$img/data/sub" "$tmp/img2/data"
echo alpha >"$img/data/a"
echo bravo >"$img/data/sub/b"
ln -s a "$img/data/link"
echo other >"$tmp/img2/data/x"
cat >"$tmp/vigil.yaml" <<Y
fim:
  state_dir: $tmp/state
  sets:
    - name: data
      paths: /data
Y
F=(fim --config "$tmp/vigil.yaml" --root "$img")

expect_rc 0 "init" -- "$VIGIL" "${F[@]}" init
expect_in "$tmp/out" "init: baseline written; 5 entries, 2 files read" "init summary"
[ ! -s "$tmp/err" ] && ok || bad "no progress line when stderr is not a terminal: $(cat "$tmp/err")"
db=$(ls "$tmp"/state/fim-*.db 2>/dev/null | head -1)
[ -n "$db" ] && ok || bad "the baseline of an image is its own file, not fim.db"
[ "$(stat -c %a "$tmp/state")" = 700 ] && ok || bad "state dir mode $(stat -c %a "$tmp/state")"
[ "$(stat -c %a "$db")" = 600 ] && ok || bad "baseline mode $(stat -c %a "$db")"

expect_rc 0 "clean check" -- "$VIGIL" "${F[@]}" check
expect_in "$tmp/out" "check: 0 added, 0 removed, 0 changed" "clean check summary"

chmod 600 "$img/data/a"
echo new >"$img/data/sub/new"
expect_rc 1 "drift" -- "$VIGIL" "${F[@]}" check
expect_in "$tmp/out" "changed    /data/a [data]" "changed line"
expect_in "$tmp/out" "mode       0644 → 0600" "old → new"
expect_in "$tmp/out" "added      /data/sub/new" "added line"

expect_rc 1 "json drift" -- "$VIGIL" "${F[@]}" check --format json
"$PY" - "$tmp/out" <<'P' && ok || bad "json report"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["op"] == "check" and d["summary"]["changed"] >= 1, d["summary"]
kinds = {f["unmapped"]["fim"]["change"]: f for f in d["findings"]}
assert kinds["added"]["class_uid"] == 1001 and kinds["added"]["activity_id"] == 1
a = [f for f in d["findings"] if f["file"]["path"] == "/data/a"][0]
assert a["activity_name"] == "Set Security", a["activity_name"]
assert {"attribute": "mode", "old": "0644", "new": "0600"} in a["unmapped"]["fim"]["changes"]
assert a["file"]["hashes"][0]["algorithm"] == "SHA-256"
P

# Another root gets its own baseline; the first one is untouched.
expect_rc 0 "init of a second root" -- "$VIGIL" fim --config "$tmp/vigil.yaml" --root "$tmp/img2" init
[ "$(ls "$tmp"/state/fim-*.db | wc -l)" -eq 2 ] && ok || bad "two roots, two baselines"
expect_rc 1 "first root still drifts" -- "$VIGIL" "${F[@]}" check
expect_rc 0 "update" -- "$VIGIL" "${F[@]}" update --full
expect_rc 0 "clean after update" -- "$VIGIL" "${F[@]}" check

# --state-dir overrides the configuration; no baseline there is an error.
expect_rc 2 "no baseline" -- "$VIGIL" "${F[@]}" check --state-dir "$tmp/empty"
expect_in "$tmp/err" "vigil fim init" "no baseline message"

printf 'fim:\n  sets:\n    - paths: /data\n      attributes: [mode, shape]\n' >"$tmp/bad.yaml"
expect_rc 2 "bad config" -- "$VIGIL" fim --config "$tmp/bad.yaml" --root "$img" check
expect_in "$tmp/err" "bad.yaml:4: unknown attribute 'shape'" "bad config line"
expect_rc 2 "unknown op" -- "$VIGIL" fim --root "$img" verify
expect_rc 2 "bad format" -- "$VIGIL" "${F[@]}" check --format xml
expect_rc 2 "missing root" -- "$VIGIL" fim --config "$tmp/vigil.yaml" --root "$tmp/nope" init

echo "fim-cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
