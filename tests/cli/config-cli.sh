#!/usr/bin/env bash
# config-cli.sh VIGIL SHIPPED_YAML: `vigil config check` as an admin runs it:
# the shipped /etc/vigil/vigil.yaml and the vigil.yaml(5) example load, and
# each kind of mistake is refused with the file and line that hold it.
set -uo pipefail
VIGIL=${1:?usage: config-cli.sh VIGIL SHIPPED_YAML}
SHIPPED=${2:?usage: config-cli.sh VIGIL SHIPPED_YAML}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

# accepts NAME CONTENT: the file loads
accepts() {
	printf '%s' "$2" >"$tmp/$1.yaml"
	expect_rc 0 "$1" -- "$VIGIL" config check --config "$tmp/$1.yaml"
	expect_in "$tmp/out" "$tmp/$1.yaml: ok" "$1"
}
# refuses NAME LINE TEXT CONTENT: exit 2, "FILE:LINE: ...TEXT..." on stderr
refuses() {
	printf '%s' "$4" >"$tmp/$1.yaml"
	expect_rc 2 "$1" -- "$VIGIL" config check --config "$tmp/$1.yaml"
	expect_in "$tmp/err" "$tmp/$1.yaml:$2: " "$1: the line"
	expect_in "$tmp/err" "$3" "$1: the message"
	[ ! -s "$tmp/out" ] && ok || bad "$1: printed on stdout: $(cat "$tmp/out")"
}

# The shipped file: every key commented out, so it loads and changes nothing.
expect_rc 0 "shipped vigil.yaml" -- "$VIGIL" config check --config "$SHIPPED"
expect_in "$tmp/out" "$SHIPPED: ok" "shipped vigil.yaml"
# Each commented-out setting, uncommented, loads too (the values it shows
# are valid). Settings are "#key" or "#  key"; prose is "# text".
sed -n '/^#checks:/,$p' "$SHIPPED" | sed -E 's/^#([^ ]|  )/\1/' |
	sed -E "s|^  baseline: .*|  baseline: $tmp/b.yaml|" >"$tmp/uncommented.yaml"
cat >"$tmp/b.yaml" <<'Y'
id: cfg
name: config test
version: '1'
platforms: [{id: debian}]
checks:
  - id: c1
    section: A
    title: passwd exists
    severity: low
    all: [{file: {path: /etc/passwd, exists: true}}]
Y
expect_rc 0 "shipped vigil.yaml, uncommented" -- "$VIGIL" config check --config "$tmp/uncommented.yaml"
grep -q 'hash_threads: 0' "$tmp/uncommented.yaml" && grep -q 'attributes:' "$tmp/uncommented.yaml" &&
	grep -q 'allow_commands: false' "$tmp/uncommented.yaml" && ok ||
	bad "uncommenting the shipped file lost keys: $(cat "$tmp/uncommented.yaml")"
# vigil check takes the shipped file as its configuration.
mkdir -p "$tmp/img/etc"
printf 'root:x:0:0::/root:/bin/bash\n' >"$tmp/img/etc/passwd"
printf 'ID=debian\nVERSION_ID="12"\n' >"$tmp/img/etc/os-release"
expect_rc 0 "vigil check --config shipped" -- "$VIGIL" check --config "$SHIPPED" --root "$tmp/img" --baseline "$tmp/b.yaml"

accepts empty ""
accepts comments "# nothing
  # set here
"
# The example of vigil.yaml(5).
accepts example "checks:
  baseline: $tmp/b.yaml
  allow_commands: true
  command_timeout: 30
fim:
  sets:
    - name: etc
      paths: [/etc]
      exclude: [/etc/adjtime, \"*.swp\"]
      attributes: [all, -device]
    - name: ssh
      paths: [/root/.ssh, \"/home/*/.ssh\"]
"
accepts one-path "fim:
  state_dir: /srv/vigil
  hash_threads: 64
  sets:
    - paths: /etc
      attributes: [-sha256]
"

refuses unknown-section 3 "unknown section 'chekcs'" "checks:
  allow_commands: no
chekcs: {baseline: x}
"
refuses unknown-key 3 "unknown key 'alow_commands' in checks" "checks:
  baseline: $tmp/b.yaml
  alow_commands: true
"
refuses bad-bool 2 "'maybe' is not true or false" "checks:
  allow_commands: maybe
"
refuses bad-int 3 "'ten' is not a whole number" "checks:
  allow_commands: false
  command_timeout: ten
"
refuses timeout-range 2 "checks.command_timeout must be 1..3600" "checks:
  command_timeout: 0
"
refuses threads-range 3 "fim.hash_threads must be" "fim:
  state_dir: /var/lib/vigil
  hash_threads: 65
"
refuses relative-state 2 "fim.state_dir must be an absolute path" "fim:
  state_dir: var/lib/vigil
"
refuses relative-path 5 "path 'etc' must be absolute" "fim:
  sets:
    - name: a
      paths: [/usr]
    - paths: [etc]
"
refuses dotdot 3 "must be absolute, without '..'" "fim:
  sets:
    - paths: [/etc/../root]
"
refuses no-paths 3 "a fim set needs 'paths'" "fim:
  sets:
    - name: nothing
"
refuses bad-attr 5 "unknown attribute 'colour'" "fim:
  sets:
    - name: a
      paths: [/etc]
      attributes: [mode, colour]
"
refuses duplicate 3 "duplicate key 'baseline'" "checks:
  baseline: a
  baseline: b
"
refuses yaml-syntax 3 "YAML error" "checks:
  baseline: a
 allow_commands: [
"
refuses anchor 1 "anchors and aliases are not allowed" "checks: &c
  baseline: a
fim: *c
"
refuses variable 3 "undefined variable \${HOME}" "fim:
  sets:
    - paths: [\"\${HOME}/.ssh\"]
"
refuses not-a-mapping 1 "the configuration must be a mapping" "- checks
"
refuses check-interval 3 "run.check_interval must be 60..604800" "run:
  mode: bpf
  check_interval: 59
"
refuses coalesce-ms 3 "run.coalesce_ms must be 0..60000" "run:
  mode: hybrid
  coalesce_ms: 60001
"
refuses coalesce-ms-negative 2 "run.coalesce_ms must be 0..60000" "run:
  coalesce_ms: -1
"
refuses bad-mode 2 "mode" "run:
  mode: kprobe
"
refuses relative-run-state 2 "run.state_dir must be an absolute path" "run:
  state_dir: var/lib/vigil
"
refuses outbox-small 2 "outbox.max_bytes must be" "outbox:
  max_bytes: 1000
"
refuses outbox-four 2 "outbox.max_bytes must hold at least four batches" "outbox:
  max_bytes: 2097152
  batch_bytes: 1048576
"
refuses collector-address 2 "collector.address must be host:port" "collector:
  address: collector.example
"
refuses run-unknown 3 "unknown key 'heartbeat' in run" "run:
  fim: false
  heartbeat: 5
"

# A baseline that checks.baseline names must exist and load.
printf 'checks:\n  baseline: no-such-baseline\n' >"$tmp/nobase.yaml"
expect_rc 2 "unknown checks.baseline" -- "$VIGIL" config check --config "$tmp/nobase.yaml"
expect_in "$tmp/err" "checks.baseline: no baseline named 'no-such-baseline'" "unknown checks.baseline"
printf 'id: [\n' >"$tmp/broken-baseline.yaml"
printf 'checks:\n  baseline: %s\n' "$tmp/broken-baseline.yaml" >"$tmp/brokenbase.yaml"
expect_rc 2 "broken checks.baseline" -- "$VIGIL" config check --config "$tmp/brokenbase.yaml"
expect_in "$tmp/err" "$tmp/broken-baseline.yaml:" "broken checks.baseline: its own file:line"

# A relative --config is taken from the working directory.
(cd "$tmp" && "$VIGIL" config check --config example.yaml) >"$tmp/out" 2>"$tmp/err" &&
	grep -qF "$tmp/example.yaml: ok" "$tmp/out" && ok || bad "relative --config: $(cat "$tmp/err")"
(cd "$tmp" && "$VIGIL" config check --config bad-bool.yaml) >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] && grep -qF "$tmp/bad-bool.yaml:2: " "$tmp/err" && ok || bad "relative --config, a mistake: $(cat "$tmp/err")"

# A named file must exist; usage errors are 2, --help 0.
expect_rc 2 "missing --config file" -- "$VIGIL" config check --config "$tmp/nope.yaml"
expect_in "$tmp/err" "$tmp/nope.yaml: No such file or directory" "missing --config file"
expect_rc 2 "no config command" -- "$VIGIL" config
expect_rc 2 "unknown config command" -- "$VIGIL" config frobnicate
expect_in "$tmp/err" "unknown config command 'frobnicate'" "unknown config command"
expect_rc 2 "extra argument" -- "$VIGIL" config check "$tmp/empty.yaml"
expect_rc 2 "unknown option" -- "$VIGIL" config check --frob
expect_rc 0 "--help" -- "$VIGIL" config check --help
expect_in "$tmp/out" "usage: vigil config check" "--help"
expect_rc 0 "vigil --help names config" -- "$VIGIL" --help
expect_in "$tmp/out" "vigil config check" "vigil --help"
# The default path: "ok", or "not present" when there is none.
"$VIGIL" config check >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ -e /etc/vigil/vigil.yaml ]; then
	[ $rc -le 2 ] && ok || bad "default config: exit $rc"
else
	[ $rc -eq 0 ] && grep -qF "/etc/vigil/vigil.yaml: not present; the defaults apply" "$tmp/out" &&
		ok || bad "no default config: exit $rc, $(cat "$tmp/out" "$tmp/err")"
fi

echo "cli.config: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
