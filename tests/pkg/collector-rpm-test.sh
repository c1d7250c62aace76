#!/usr/bin/env bash
# collector-rpm-test.sh BUILD_DIR: the vigil-collector .rpm that the same
# tree makes (rpm-test.sh does the vigil one): name, requires (each linked
# soname, shadow-utils for %pre, not the sensor), files, modes,
# %config(noreplace), scriptlets; then Debian's rpm acting on a copy of the
# Debian 12 root (--root: the scriptlets run inside): install (%pre makes
# the user, %post the state directory and the enablement), upgrade over an
# edited configuration and a used state directory, erase (state, user and
# the edited configuration as .rpmsave kept: rpm has no purge).
set -uo pipefail
BUILD=$(cd "${1:?usage: collector-rpm-test.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d /var/tmp/vigil-crpm.XXXXXX)
root=$tmp/root
trap 'pkg_root_drop "$root"; rm -rf "$tmp"' EXIT
. "$src/tests/cli/lib.sh"
. "$here/lib.sh"

pkg_need rpmbuild rpm
pkg_version
U=vigil-collector
STATE=/var/lib/vigil-collector

pkg_build RPM
rpm1=$(ls "$tmp"/out1/$U-[0-9]*.rpm)
rpm2=$(ls "$tmp"/out2/$U-[0-9]*.rpm)
[ "$(basename "$rpm1")" = "$U-${ver}-1.x86_64.rpm" ] && ok || bad "file name $(basename "$rpm1")"
[ "$(basename "$rpm2")" = "$U-${ver}-2.x86_64.rpm" ] && ok || bad "file name $(basename "$rpm2")"
q() { rpm -qp --nosignature "$@" 2>/dev/null; }

# ---- the package as built -----------------------------------------------------
[ "$(q --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH}' "$rpm1")" = "$U $ver 1 x86_64" ] && ok ||
	bad "NEVRA: $(q --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH}' "$rpm1")"
q --requires "$rpm1" >"$tmp/requires"
echo "Requires (libraries): $(grep -E '^lib[^(]*\(\)\(64bit\)' "$tmp/requires" | tr '\n' ' ')"
bin=$BUILD/collectors/$U	# what the rpm holds, before strip
for so in $(objdump -p "$bin" | awk '$1 == "NEEDED" { print $2 }'); do
	grep -qxF "$so()(64bit)" "$tmp/requires" && ok || bad "Requires lacks $so()(64bit)"
done
grep -qE 'clang|llvm|bpftool|devel|gcc|libbpf' "$tmp/requires" && bad "Requires names a build tool or libbpf: $(cat "$tmp/requires")" || ok
grep -qxE 'vigil( .*)?' "$tmp/requires" && bad "Requires the vigil package" || ok
q --qf '[%{REQUIREFLAGS:deptype} %{REQUIRENAME}\n]' "$rpm1" | grep -qx 'pre shadow-utils' && ok ||
	bad "no Requires(pre): shadow-utils (for useradd in %pre)"
q --qf '[%{FILEMODES:perms}|%{FILEUSERNAME}|%{FILEGROUPNAME}|%{FILEFLAGS:fflags}|%{FILENAMES}\n]' "$rpm1" \
	| awk -F'|' '{ print $1, $2, $3, ($4 == "" ? "-" : $4), $5 }' >"$tmp/contents"
for want in \
	"-rwxr-xr-x root root - /usr/sbin/$U" \
	"-rw-r--r-- root root cn /etc/vigil/collector.yaml" \
	"drwxr-xr-x root root - /etc/vigil" \
	"-rw-r--r-- root root - /usr/lib/systemd/system/$U.service" \
	"-rw-r--r-- root root d /usr/share/man/man8/$U.8.gz"; do
	grep -qxF -- "$want" "$tmp/contents" && ok || bad "not in the rpm: $want"
done
[ "$(grep -c . "$tmp/contents")" -eq 5 ] && ok || bad "more in the rpm than the five: $(cat "$tmp/contents")"
grep -q ' /var/' "$tmp/contents" && bad "the rpm ships /var (state is made by %post)" || ok
q --scripts "$rpm1" >"$tmp/scripts"
for s in preinstall postinstall preuninstall postuninstall; do
	grep -q "^$s scriptlet" "$tmp/scripts" && ok || bad "no %$s scriptlet"
done

# ---- life in a Debian 12 root ----------------------------------------------------
R=(rpm --root "$root" --dbpath /var/lib/rpm --nosignature)
debs=$(needed_packages "$bin" | grep -v '^libc6$')
grep -q '^?' <<<"$debs" && bad "a required library is in no Debian package: $debs"
pkg_root_ensure || { echo "FAIL: no Debian 12 root"; exit 1; }
# shellcheck disable=SC2086
pkg_root_fetch $debs || { echo "FAIL: fetching $debs"; exit 1; }
pkg_root_copy "$root" || { echo "FAIL: copying the root"; exit 1; }
in_root() { chroot_run "$root" "$@"; }
# shellcheck disable=SC2086
expect_rc 0 "the required libraries from Debian" -- in_root apt-get install -y $debs
in_root getent passwd $U >/dev/null && bad "the root already has a $U user"
expect_rc 0 "rpm --initdb" -- "${R[@]}" --initdb
expect_rc 0 "rpm -i" -- "${R[@]}" -i --nodeps "$rpm1"
[ "$("${R[@]}" -q --qf '%{VERSION}-%{RELEASE}' $U 2>/dev/null)" = "$ver-1" ] && ok || bad "rpm -q $U after install"
pw=$(in_root getent passwd $U)
IFS=: read -r _ _ uid _ _ home shell <<<"$pw"
echo "user made by %pre: $pw"
[ -n "$uid" ] && [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] && ok || bad "%pre made no system user: '$pw'"
[ "$home" = $STATE ] && ok || bad "$U's home: $home"
case $shell in */nologin) ok ;; *) bad "$U's shell: $shell" ;; esac
in_root getent group $U >/dev/null && ok || bad "%pre made no group $U"
mode_is "$root/usr/sbin/$U" "755 root root" "binary"
mode_is "$root/etc/vigil/collector.yaml" "644 root root" "config"
mode_in "$root" $STATE "750 $U $U" "state dir made by %post"
[ "$(in_root systemctl is-enabled $U.service 2>&1)" = enabled ] && ok ||
	bad "%post did not enable: $(in_root systemctl is-enabled $U.service 2>&1)"
expect_rc 0 "$U version in the root" -- in_root $U version
[ "$(cat "$tmp/out")" = "$U $ver" ] && ok || bad "$U version: $(cat "$tmp/out")"
expect_rc 0 "token create by root" -- in_root $U token create
left=$(not_owned_by "$root" $STATE $U)
[ -z "$left" ] && ok || bad "token create by root left files the collector does not own: $left"

sed -i 's/^cert_days: 365$/cert_days: 90/' "$root/etc/vigil/collector.yaml"
cp "$root/etc/vigil/collector.yaml" "$tmp/edited.yaml"
cp "$root$STATE/ca/ca.crt" "$tmp/ca.crt"
echo kept >"$root$STATE/state-file"
expect_rc 0 "rpm -U to release 2" -- "${R[@]}" -U --nodeps "$rpm2"
[ "$("${R[@]}" -q --qf '%{VERSION}-%{RELEASE}' $U 2>/dev/null)" = "$ver-2" ] && ok || bad "rpm -q $U after upgrade"
cmp -s "$tmp/edited.yaml" "$root/etc/vigil/collector.yaml" && ok || bad "upgrade changed the edited collector.yaml"
ls "$root"/etc/vigil/collector.yaml.rpm* >/dev/null 2>&1 && bad "upgrade left $(ls "$root"/etc/vigil/collector.yaml.rpm*)" || ok
cmp -s "$tmp/ca.crt" "$root$STATE/ca/ca.crt" && ok || bad "upgrade changed the CA"
[ "$(cat "$root$STATE/state-file" 2>/dev/null)" = kept ] && ok || bad "upgrade lost the state"
[ "$(in_root id -u $U)" = "$uid" ] && ok || bad "upgrade changed the user's uid"
[ "$(in_root systemctl is-enabled $U.service 2>&1)" = enabled ] && ok || bad "upgrade disabled the unit"

expect_rc 0 "rpm -e" -- "${R[@]}" -e $U
[ ! -e "$root/usr/sbin/$U" ] && ok || bad "erase left /usr/sbin/$U"
cmp -s "$tmp/edited.yaml" "$root/etc/vigil/collector.yaml.rpmsave" && ok || bad "erase did not keep the edited config as .rpmsave"
cmp -s "$tmp/ca.crt" "$root$STATE/ca/ca.crt" && ok || bad "erase lost the CA"
[ "$(in_root id -u $U 2>/dev/null)" = "$uid" ] && ok || bad "erase removed the user (it is meant to stay)"
[ -e "$root/etc/systemd/system/multi-user.target.wants/$U.service" ] && bad "%preun did not disable the unit" || ok

echo "pkg.collector-rpm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
