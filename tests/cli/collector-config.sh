#!/usr/bin/env bash
# collector-config.sh VIGIL_COLLECTOR PACKAGED_YAML: the collector's command
# line and its configuration loader: the shipped packaging/collector.yaml
# passes and says what the built-in defaults say; every kind of bad
# configuration is refused with exit 2 and a message naming the line.
set -uo pipefail
BIN=$1
PACKAGED=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

# ---- the shipped file ----------------------------------------------------------
expect_rc 0 "config check of the packaged file" -- "$BIN" config check --config "$PACKAGED"
expect_in "$tmp/out" "valid; listen 0.0.0.0:24224, state_dir /var/lib/vigil-collector, at most 1024 connections" "packaged file"
: >"$tmp/empty.yaml"
expect_rc 0 "an empty file is the defaults" -- "$BIN" config check --config "$tmp/empty.yaml"
sed "s|$tmp/empty.yaml|$PACKAGED|" "$tmp/out" >"$tmp/defaults"
expect_rc 0 "the packaged file again" -- "$BIN" config check --config "$PACKAGED"
cmp -s "$tmp/out" "$tmp/defaults" && ok || bad "the packaged file differs from the defaults: $(cat "$tmp/out" "$tmp/defaults")"
# Every key of the packaged file is a real key: change each value and the loader notices.
grep -qE '^  frame_max: 16MiB$' "$PACKAGED" && ok || bad "packaged file lists frame_max"
sed 's/^  frame_max: 16MiB$/  frame_max: 32MiB/' "$PACKAGED" >"$tmp/big.yaml"
expect_rc 2 "frame_max over the decoder's ceiling" -- "$BIN" config check --config "$tmp/big.yaml"
expect_in "$tmp/err" "big.yaml:$(grep -n 'frame_max' "$PACKAGED" | cut -d: -f1): limits.frame_max: 32MiB is out of range" "frame_max range, with its line"

# ---- bad configurations: exit 2, the file and line named --------------------------
bad_config() {	# NAME WANT-IN-STDERR YAML
	printf '%s\n' "$3" >"$tmp/$1.yaml"
	expect_rc 2 "$1" -- "$BIN" config check --config "$tmp/$1.yaml"
	expect_in "$tmp/err" "$2" "$1"
}
bad_config unknown "unknown.yaml:2: unknown key 'lisen'" $'state_dir: /tmp/x\nlisen: 1.2.3.4:5'
bad_config unknown_limit "unknown_limit.yaml:3: limits: unknown key 'frame_size'" $'limits:\n  max_connections: 5\n  frame_size: 1M'
bad_config twice "twice.yaml:3: 'state_dir' is given twice" $'state_dir: /a\nlog_level: info\nstate_dir: /b'
bad_config twice_limit "twice_limit.yaml:3: limits.idle_timeout is given twice" $'limits:\n  idle_timeout: 1m\n  idle_timeout: 2m'
bad_config not_a_size "not_a_size.yaml:2: limits.write_max: '12 apples' is not a size" $'limits:\n  write_max: 12 apples'
bad_config not_a_duration "not_a_duration.yaml:2: limits.frame_timeout: 'soon' is not a duration" $'limits:\n  frame_timeout: soon'
bad_config zero_conns "zero_conns.yaml:2: limits.max_connections: 0 is out of range" $'limits:\n  max_connections: 0'
bad_config level "level.yaml:1: log_level: 'loud' is not error, warning, info or debug" 'log_level: loud'
bad_config listen "listen.yaml:3: listen: 'no-port' is not valid here" $'listen:\n  - 127.0.0.1:1\n  - no-port'
bad_config port "port.yaml:1: listen: '127.0.0.1:70000' is not valid here" 'listen: 127.0.0.1:70000'
bad_config map_for_value "map_for_value.yaml:2: state_dir: expected a single value" $'state_dir:\n  a: b'
bad_config alias "alias.yaml:2: anchors and aliases are not taken" $'state_dir: &d /x\nstore: *d'
bad_config syntax "syntax.yaml:2:" $'limits:\n\t- x'
bad_config two_docs "two_docs.yaml:2: one document only" $'log_level: info\n---\nlog_level: debug'
bad_config top_list "top_list.yaml:1: the configuration must be a map of keys" '- a'
bad_config memory "limits.memory_max (1048576) must hold at least one frame" $'limits:\n  memory_max: 1MiB'
bad_config cert_days "cert_days.yaml:1: cert_days: 0 is out of range" 'cert_days: 0'
head -c 70000 /dev/zero | tr '\0' '#' >"$tmp/huge.yaml"
expect_rc 2 "a file over 64 KiB" -- "$BIN" config check --config "$tmp/huge.yaml"
expect_in "$tmp/err" "larger than 65536 bytes" "huge file"
expect_rc 2 "a missing --config file" -- "$BIN" config check --config "$tmp/nope.yaml"
expect_in "$tmp/err" "nope.yaml: No such file or directory" "missing file"
expect_rc 2 "serve refuses a bad configuration too" -- "$BIN" serve --config "$tmp/unknown.yaml"
expect_in "$tmp/err" "unknown key 'lisen'" "serve with a bad file"

# ---- the rest of the command line ---------------------------------------------------
expect_rc 0 "version" -- "$BIN" version
expect_in "$tmp/out" "vigil-collector " "version"
expect_rc 0 "--help" -- "$BIN" --help
for word in "serve" "token create" "cert revoke" "hosts|checks|events" "config check"; do
	expect_in "$tmp/out" "$word" "usage names $word"
done
expect_rc 2 "no command" -- "$BIN"
expect_rc 2 "an unknown command" -- "$BIN" frobnicate
expect_rc 2 "token without create" -- "$BIN" token
printf 'state_dir: %s/state\n' "$tmp" >"$tmp/state.yaml"
expect_rc 2 "token create --ttl 0s" -- "$BIN" token create --config "$tmp/state.yaml" --ttl 0s
expect_in "$tmp/err" "--ttl 0s: a duration from 1s to 365d" "ttl range"
expect_rc 2 "token create --uses 0" -- "$BIN" token create --config "$tmp/state.yaml" --uses 0
expect_rc 2 "serve takes no --ttl" -- "$BIN" serve --config "$tmp/state.yaml" --ttl 1h
# token create makes the CA when no collector ever ran, and --state-dir wins over the file.
expect_rc 0 "token create in a fresh state dir" -- "$BIN" token create --config "$tmp/state.yaml" --state-dir "$tmp/other" --ttl 30m --uses 3
grep -qE '^[0-9a-f]{16}\.[0-9a-f]{64}\.[0-9a-f]{64}$' "$tmp/out" && ok || bad "token format: $(cat "$tmp/out")"
[ -f "$tmp/other/ca/ca.crt" ] && [ ! -e "$tmp/state" ] && ok || bad "token create used --state-dir"
[ "$(stat -c %a "$tmp/other/ca/ca.key")" = 600 ] && [ "$(stat -c %a "$tmp/other")" = 700 ] && ok ||
	bad "CA key 0600, state dir 0700: $(stat -c '%a %n' "$tmp/other" "$tmp/other/ca/ca.key")"
pin=$(cut -d. -f3 "$tmp/out")
[ "$pin" = "$(openssl x509 -in "$tmp/other/ca/ca.crt" -outform DER | sha256sum | cut -d' ' -f1)" ] && ok ||
	bad "the token's pin is the CA's SHA-256"
expect_rc 0 "a second token, same CA" -- "$BIN" token create --state-dir "$tmp/other" --config "$tmp/empty.yaml"
[ "$(cut -d. -f3 "$tmp/out")" = "$pin" ] && ok || bad "the second token pins the same CA"
expect_rc 2 "cert revoke of a serial never issued" -- "$BIN" cert revoke 0123abcd --state-dir "$tmp/other" --config "$tmp/empty.yaml"
expect_in "$tmp/err" "revoking 0123abcd" "revoke unknown"
expect_rc 2 "cert revoke without a serial" -- "$BIN" cert revoke --state-dir "$tmp/other"

# Root on a state directory that belongs to the collector's user (as the
# package makes it): what token create and cert revoke make is that user's.
if [ "$(id -u)" = 0 ]; then
	chmod 0711 "$tmp"		# the user must reach its directory
	mkdir -m 0750 "$tmp/owned"
	chown nobody:nogroup "$tmp/owned"
	expect_rc 0 "token create by root in nobody's state dir" -- "$BIN" token create --state-dir "$tmp/owned" --config "$tmp/empty.yaml"
	grep -qE '^[0-9a-f]{16}\.[0-9a-f]{64}\.[0-9a-f]{64}$' "$tmp/out" && ok || bad "token as nobody: $(cat "$tmp/out" "$tmp/err")"
	expect_rc 2 "cert revoke by root in nobody's state dir" -- "$BIN" cert revoke 0123abcd --state-dir "$tmp/owned" --config "$tmp/empty.yaml"
	left=$(find "$tmp/owned" \( ! -user nobody -o ! -group nogroup \) -printf '%p %u:%g\n')
	[ -z "$left" ] && ok || bad "root left files nobody does not own: $left"
	[ -f "$tmp/owned/ca/ca.key" ] && [ -f "$tmp/owned/vigil.db" ] && ok || bad "no CA or store in $tmp/owned"
	# A directory root owns stays root's, as before.
	[ "$(stat -c %U "$tmp/other/ca/ca.key")" = root ] && ok || bad "root's own state dir changed hands"
fi

echo "cli.collector.config: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
