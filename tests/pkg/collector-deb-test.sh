#!/usr/bin/env bash
# collector-deb-test.sh BUILD_DIR: the vigil-collector .deb that the same
# tree makes (deb-test.sh does the vigil one): what it holds and declares,
# then its life in a fresh Debian 12 root (lib.sh) next to the vigil
# package: install (system user, state directory, enabled and not started),
# `token create` by root leaving only the collector's files, upgrade over an
# edited collector.yaml and a used state directory, remove, purge (state
# and configuration gone, the user and the sensor's configuration kept),
# reinstall. Needs root, debootstrap, dpkg-dev; systemd-analyze for the score.
set -uo pipefail
BUILD=$(cd "${1:?usage: collector-deb-test.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d /var/tmp/vigil-cdeb.XXXXXX)
root=$tmp/root
trap 'pkg_root_drop "$root"; rm -rf "$tmp"' EXIT
. "$src/tests/cli/lib.sh"
. "$here/lib.sh"

pkg_version
U=vigil-collector	# the package, the binary, the unit and the user
STATE=/var/lib/vigil-collector

# ---- build: release 1, and release 2 for the upgrade ---------------------------
pkg_build DEB
deb1=$(ls "$tmp"/out1/${U}_*.deb)
deb2=$(ls "$tmp"/out2/${U}_*.deb)
sensor=$(ls "$tmp"/out1/vigil_*.deb)
[ "$(basename "$deb1")" = "${U}_${ver}-1_amd64.deb" ] && ok || bad "file name $(basename "$deb1")"
[ "$(basename "$deb2")" = "${U}_${ver}-2_amd64.deb" ] && ok || bad "file name $(basename "$deb2")"

# ---- the package as built --------------------------------------------------------
field() { dpkg-deb -f "$deb1" "$1"; }
[ "$(field Package)" = $U ] && ok || bad "Package: $(field Package)"
[ "$(field Version)" = "$ver-1" ] && ok || bad "Version: $(field Version), want $ver-1"
[ "$(field Architecture)" = amd64 ] && ok || bad "Architecture: $(field Architecture)"
[ "$(field Section)" = admin ] && ok || bad "Section: $(field Section)"
depends=$(field Depends)
echo "Depends: $depends"
dpkg-deb -x "$deb1" "$tmp/x"
# shlibdeps: each library the binary links has its package; adduser for
# postinst; nothing of the build, and not the sensor (a collector host
# needs none).
for p in $(needed_packages "$tmp/x/usr/sbin/$U") adduser; do
	grep -qE "(^|, )$p( |,|$)" <<<"$depends" && ok || bad "Depends lacks $p: $depends"
done
grep -qE 'clang|llvm|bpftool|-dev\b|gcc|libbpf' <<<"$depends" && bad "Depends names a build tool or the sensor's libbpf: $depends" || ok
grep -qE '(^|, )vigil( |,|$)' <<<"$depends" && bad "Depends on the vigil package: $depends" || ok
dpkg-deb --ctrl-tarfile "$deb1" | tar -x -C "$tmp" ./conffiles ./postinst ./prerm ./postrm
[ "$(cat "$tmp/conffiles")" = /etc/vigil/collector.yaml ] && ok || bad "conffiles: $(cat "$tmp/conffiles")"
for s in postinst prerm postrm; do
	sh -n "$tmp/$s" && ok || bad "$s: not valid sh"
done
dpkg-deb -c "$deb1" | awk '{ print $1, $2, $6 }' | sed 's|\./|/|' >"$tmp/contents"
for want in \
	"-rwxr-xr-x root/root /usr/sbin/$U" \
	"-rw-r--r-- root/root /etc/vigil/collector.yaml" \
	"-rw-r--r-- root/root /usr/lib/systemd/system/$U.service" \
	"-rw-r--r-- root/root /usr/share/man/man8/$U.8.gz"; do
	grep -qxF -- "$want" "$tmp/contents" && ok || bad "not in the package: $want"
done
grep -E '^-' "$tmp/contents" | grep -vE " /(usr/sbin/$U|etc/vigil/collector\.yaml|usr/lib/systemd/system/$U\.service|usr/share/man/man8/$U\.8\.gz)$" \
	>"$tmp/extra" && bad "unexpected files: $(cat "$tmp/extra")" || ok
grep -q ' /var/' "$tmp/contents" && bad "the package ships /var (state is made by postinst)" || ok
# No file in both packages: they install side by side.
dpkg-deb -c "$sensor" | awk '/^-/ { print $6 }' | sort >"$tmp/sensor-files"
grep '^-' "$tmp/contents" | awk '{ print "." $3 }' | sort | comm -12 - "$tmp/sensor-files" >"$tmp/both"
[ ! -s "$tmp/both" ] && ok || bad "files in both packages: $(cat "$tmp/both")"
file "$tmp/x/usr/sbin/$U" | grep ', stripped' >/dev/null && ok || bad "binary not stripped"
expect_rc 0 "$U version" -- "$tmp/x/usr/sbin/$U" version
[ "$(cat "$tmp/out")" = "$U $ver" ] && ok || bad "$U version: $(cat "$tmp/out")"
expect_rc 0 "the shipped collector.yaml loads" -- "$tmp/x/usr/sbin/$U" config check --config "$tmp/x/etc/vigil/collector.yaml"
w=$(zcat "$tmp/x/usr/share/man/man8/$U.8.gz" | LC_ALL=C groff -mdoc -ww -z 2>&1)
[ -z "$w" ] && ok || bad "$U.8: $w"
unit=$tmp/x/usr/lib/systemd/system/$U.service
for want in "User=$U" "Group=$U" "CapabilityBoundingSet=" "AmbientCapabilities=" \
	"StateDirectory=$U" "StateDirectoryMode=0750" "ProtectSystem=strict" "NoNewPrivileges=yes" \
	"Type=notify" "Restart=on-failure"; do
	grep -qxF "$want" "$unit" && ok || bad "the unit lacks $want"
done
if command -v systemd-analyze >/dev/null; then
	systemd-analyze security --offline=yes --no-pager "$unit" >"$tmp/security" 2>&1
	score=$(sed -n "s/.*Overall exposure level for $U.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p" "$tmp/security")
	echo "systemd-analyze security --offline=yes $U.service: ${score:-?}"
	# 1.2 when written (docs/install.md); more means hardening was lost.
	awk -v s="${score%% *}" 'BEGIN { exit !(s != "" && s + 0 <= 1.5) }' && ok ||
		bad "exposure ${score:-unknown} above 1.5: $(grep '✗' "$tmp/security" | head -5)"
fi

# ---- a fresh Debian 12 root, with the sensor's package next to it ------------------
pkg_root_ensure || { echo "FAIL: no Debian 12 root"; exit 1; }
pkg_root_fetch "$deb1" "$sensor" || { echo "FAIL: the dependencies do not resolve in Debian 12"; exit 1; }
pkg_root_copy "$root" || { echo "FAIL: copying the root"; exit 1; }
cp "$deb1" "$deb2" "$sensor" "$root/tmp/"
in_root() { chroot_run "$root" "$@"; }

expect_rc 0 "install both with apt" -- in_root apt-get install -y "/tmp/$(basename "$sensor")" "/tmp/$(basename "$deb1")"
grep '^Get:' "$tmp/out" | grep -v ' /tmp/' >"$tmp/got" && bad "fetched what pkg_root_fetch had not: $(cat "$tmp/got")" || ok
[ "$(in_root dpkg-query -W -f='${Status} ${Version}' $U)" = "install ok installed $ver-1" ] &&
	ok || bad "dpkg status: $(in_root dpkg-query -W -f='${Status} ${Version}' $U)"
# The system user and its group.
pw=$(in_root getent passwd $U)
IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
echo "user: $pw"
[ -n "$uid" ] && [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] && ok || bad "no system user $U: '$pw'"
[ "$(in_root getent group $U | cut -d: -f3)" = "$gid" ] && ok || bad "$U's group is not its own: $(in_root getent group "$gid")"
[ "$home" = $STATE ] && ok || bad "$U's home: $home"
case $shell in */nologin|/bin/false) ok ;; *) bad "$U's shell: $shell" ;; esac
[ "$(in_root passwd -S $U | awk '{ print $2 }')" != P ] && ok || bad "$U has a usable password"
mode_is "$root/usr/sbin/$U" "755 root root" "binary"
mode_is "$root/etc/vigil/collector.yaml" "644 root root" "config"
mode_is "$root/usr/lib/systemd/system/$U.service" "644 root root" "unit"
mode_is "$root/usr/share/man/man8/$U.8.gz" "644 root root" "$U(8)"
mode_in "$root" $STATE "750 $U $U" "state dir"
[ -z "$(ls -A "$root$STATE")" ] && ok || bad "the state dir is not empty after install: $(ls -A "$root$STATE")"
in_root dpkg-query -W -f='${Conffiles}' $U | grep '^ /etc/vigil/collector.yaml [0-9a-f]\{32\}$' >/dev/null &&
	ok || bad "dpkg does not hold /etc/vigil/collector.yaml as a conffile"
[ -L "$root/etc/systemd/system/multi-user.target.wants/$U.service" ] && ok ||
	bad "not enabled: no multi-user.target.wants/$U.service"
[ "$(in_root systemctl is-enabled $U.service 2>&1)" = enabled ] && ok ||
	bad "systemctl is-enabled: $(in_root systemctl is-enabled $U.service 2>&1)"
expect_rc 0 "$U version in the root" -- in_root $U version
[ "$(cat "$tmp/out")" = "$U $ver" ] && ok || bad "$U version: $(cat "$tmp/out")"
expect_rc 0 "$U config check in the root" -- in_root $U config check
expect_in "$tmp/out" "/etc/vigil/collector.yaml: valid; listen 0.0.0.0:24224, state_dir $STATE" "config check"
expect_rc 0 "systemd-analyze verify" -- in_root systemd-analyze verify /usr/lib/systemd/system/$U.service
[ ! -s "$tmp/err" ] && ok || bad "systemd-analyze verify said: $(cat "$tmp/err")"
expect_rc 0 "man -w $U" -- in_root man -w 8 $U

# The operator makes a token as root before the collector ever started:
# the CA and the store it makes are the collector's, not root's.
expect_rc 0 "token create by root" -- in_root $U token create
grep -qE '^[0-9a-f]{16}\.[0-9a-f]{64}\.[0-9a-f]{64}$' "$tmp/out" && ok || bad "token: $(cat "$tmp/out")"
[ -f "$root$STATE/ca/ca.key" ] && [ -f "$root$STATE/vigil.db" ] && ok || bad "token create made no CA or store: $(ls -R "$root$STATE")"
left=$(not_owned_by "$root" $STATE $U)
[ -z "$left" ] && ok || bad "token create by root left files the collector does not own: $left"
mode_in "$root" $STATE/ca/ca.key "600 $U $U" "the CA key"
expect_rc 0 "hosts by root" -- in_root $U hosts
left=$(not_owned_by "$root" $STATE $U)
[ -z "$left" ] && ok || bad "a query by root left files the collector does not own: $left"

# ---- upgrade over an edited configuration and a used state directory -----------------
sed -i 's/^cert_days: 365$/cert_days: 90/' "$root/etc/vigil/collector.yaml"
grep -q '^cert_days: 90$' "$root/etc/vigil/collector.yaml" && ok || bad "could not edit collector.yaml"
cp "$root/etc/vigil/collector.yaml" "$tmp/edited.yaml"
cp "$root$STATE/ca/ca.crt" "$tmp/ca.crt"
echo kept >"$root$STATE/state-file"
expect_rc 0 "upgrade to release 2" -- in_root apt-get install -y "/tmp/$(basename "$deb2")"
[ "$(in_root dpkg-query -W -f='${Version}' $U)" = "$ver-2" ] && ok ||
	bad "after upgrade: version $(in_root dpkg-query -W -f='${Version}' $U)"
cmp -s "$tmp/edited.yaml" "$root/etc/vigil/collector.yaml" && ok || bad "upgrade changed the edited collector.yaml"
ls "$root"/etc/vigil/collector.yaml.dpkg-* >/dev/null 2>&1 && bad "upgrade left $(ls "$root"/etc/vigil/collector.yaml.dpkg-*)" || ok
cmp -s "$tmp/ca.crt" "$root$STATE/ca/ca.crt" && ok || bad "upgrade changed the CA"
[ "$(cat "$root$STATE/state-file" 2>/dev/null)" = kept ] && ok || bad "upgrade lost $STATE/state-file"
mode_in "$root" $STATE "750 $U $U" "state dir after upgrade"
[ "$(in_root id -u $U)" = "$uid" ] && ok || bad "upgrade changed $U's uid: $(in_root id -u $U)"
[ "$(in_root systemctl is-enabled $U.service 2>&1)" = enabled ] && ok || bad "upgrade disabled the unit"
expect_rc 0 "edited config loads" -- in_root $U config check

# ---- remove: state and configuration stay ---------------------------------------------
expect_rc 0 "remove" -- in_root dpkg -r $U
[ ! -e "$root/usr/sbin/$U" ] && ok || bad "remove left /usr/sbin/$U"
[ "$(in_root dpkg-query -W -f='${Status}' $U)" = "deinstall ok config-files" ] && ok ||
	bad "after remove: $(in_root dpkg-query -W -f='${Status}' $U)"
cmp -s "$tmp/edited.yaml" "$root/etc/vigil/collector.yaml" && ok || bad "remove changed collector.yaml"
cmp -s "$tmp/ca.crt" "$root$STATE/ca/ca.crt" && ok || bad "remove lost the CA"
[ "$(readlink "$root/etc/systemd/system/$U.service")" = /dev/null ] && ok || bad "remove did not mask $U.service"

# ---- purge: its state and configuration go; the user and the sensor's stay ---------------
expect_rc 0 "purge" -- in_root dpkg -P $U
[ ! -e "$root$STATE" ] && ok || bad "purge left $STATE"
[ ! -e "$root/etc/vigil/collector.yaml" ] && ok || bad "purge left /etc/vigil/collector.yaml"
[ -f "$root/etc/vigil/vigil.yaml" ] && ok || bad "purging $U took the sensor's /etc/vigil/vigil.yaml"
left=$(find "$root/etc/systemd" "$root/var/lib/systemd" -name "$U.service*" 2>/dev/null)
[ -z "$left" ] && ok || bad "purge left unit state: $left"
in_root dpkg-query -W $U >/dev/null 2>&1 && bad "dpkg still knows $U after purge" || ok
[ "$(in_root id -u $U 2>/dev/null)" = "$uid" ] && ok || bad "purge removed the user (it is meant to stay)"

# ---- reinstall: the same user, a fresh state directory ------------------------------------
expect_rc 0 "reinstall" -- in_root apt-get install -y "/tmp/$(basename "$deb2")"
[ "$(in_root id -u $U)" = "$uid" ] && ok || bad "reinstall: uid $(in_root id -u $U), was $uid"
mode_in "$root" $STATE "750 $U $U" "state dir after reinstall"
[ "$(in_root systemctl is-enabled $U.service 2>&1)" = enabled ] && ok || bad "reinstall: not enabled"
expect_rc 0 "purge both" -- in_root dpkg -P $U vigil
[ ! -e "$root/etc/vigil" ] && ok || bad "purging both left /etc/vigil: $(ls -A "$root/etc/vigil")"

echo "pkg.collector-deb: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
