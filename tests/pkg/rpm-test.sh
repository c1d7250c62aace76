#!/usr/bin/env bash
# rpm-test.sh BUILD_DIR: the .rpm that the same tree makes (rpmbuild from
# Debian's rpm): its contents, modes, %config, scriptlets and automatic
# requires; then its life in a copy of the Debian 12 root of deb-test.sh,
# with Debian's rpm acting on that root (--root): install (scriptlets run
# inside), upgrade over an edited configuration and written state, erase.
# The libraries it requires are installed there from Debian first, which
# also shows that every soname it asks for exists in Debian 12.
set -uo pipefail
BUILD=$(cd "${1:?usage: rpm-test.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d /var/tmp/vigil-rpm.XXXXXX)
root=$tmp/root
trap 'pkg_root_drop "$root"; rm -rf "$tmp"' EXIT
. "$src/tests/cli/lib.sh"
. "$here/lib.sh"

pkg_need rpmbuild rpm
pkg_version

pkg_build RPM
rpm1=$(ls "$tmp"/out1/vigil-[0-9]*.rpm)
rpm2=$(ls "$tmp"/out2/vigil-[0-9]*.rpm)
[ "$(basename "$rpm1")" = "vigil-${ver}-1.x86_64.rpm" ] && ok || bad "file name $(basename "$rpm1")"
[ "$(basename "$rpm2")" = "vigil-${ver}-2.x86_64.rpm" ] && ok || bad "file name $(basename "$rpm2")"
q() { rpm -qp --nosignature "$@" 2>/dev/null; }

# ---- the package as built -----------------------------------------------------
[ "$(q --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH}' "$rpm1")" = "vigil $ver 1 x86_64" ] && ok ||
	bad "NEVRA: $(q --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH}' "$rpm1")"
q --requires "$rpm1" >"$tmp/requires"
echo "Requires (libraries): $(grep -E '^lib[^(]*\(\)\(64bit\)' "$tmp/requires" | tr '\n' ' ')"
bin=$BUILD/sensor/vigil	# what the rpm holds, before strip
# Automatic requires: each library the binary links, and no build tool.
for so in $(objdump -p "$bin" | awk '$1 == "NEEDED" { print $2 }'); do
	grep -qxF "$so()(64bit)" "$tmp/requires" && ok || bad "Requires lacks $so()(64bit)"
done
grep -qE 'clang|llvm|bpftool|devel|gcc' "$tmp/requires" && bad "Requires names a build tool: $(cat "$tmp/requires")" || ok
# Files, modes, owners, flags (c: %config, n: noreplace, d: %doc).
q --qf '[%{FILEMODES:perms}|%{FILEUSERNAME}|%{FILEGROUPNAME}|%{FILEFLAGS:fflags}|%{FILENAMES}\n]' "$rpm1" \
	| awk -F'|' '{ print $1, $2, $3, ($4 == "" ? "-" : $4), $5 }' >"$tmp/contents"
for want in \
	"-rwxr-xr-x root root - /usr/sbin/vigil" \
	"-rw-r--r-- root root cn /etc/vigil/vigil.yaml" \
	"drwxr-xr-x root root - /etc/vigil" \
	"-rw-r--r-- root root - /usr/lib/systemd/system/vigil.service" \
	"-rw-r--r-- root root d /usr/share/man/man8/vigil.8.gz" \
	"-rw-r--r-- root root d /usr/share/man/man5/vigil.yaml.5.gz" \
	"-rw-r--r-- root root - /usr/share/vigil/baselines/debian-12.yaml"; do
	grep -qxF -- "$want" "$tmp/contents" && ok || bad "not in the rpm: $want"
done
# Only its own directories: none that the filesystem or systemd package owns.
grep -E '^d' "$tmp/contents" | grep -vE ' /(etc/vigil|usr/share/vigil|usr/share/vigil/baselines)$' \
	>"$tmp/dirs" && bad "owns directories not its own: $(cat "$tmp/dirs")" || ok
grep -q ' /var/' "$tmp/contents" && bad "the rpm ships /var (state is made by %post)" || ok
q --scripts "$rpm1" >"$tmp/scripts"
for s in postinstall preuninstall postuninstall; do
	grep -q "^$s scriptlet" "$tmp/scripts" && ok || bad "no %$s scriptlet"
done

# ---- life in a Debian 12 root ----------------------------------------------------
R=(rpm --root "$root" --dbpath /var/lib/rpm --nosignature)
# The Debian packages that provide the sonames required.
debs=$(needed_packages "$bin" | grep -v '^libc6$')
grep -q '^?' <<<"$debs" && bad "a required library is in no Debian package: $debs"
pkg_root_ensure || { echo "FAIL: no Debian 12 root"; exit 1; }
# shellcheck disable=SC2086
pkg_root_fetch $debs || { echo "FAIL: fetching $debs"; exit 1; }
pkg_root_copy "$root" || { echo "FAIL: copying the root"; exit 1; }
in_root() { chroot_run "$root" "$@"; }
# shellcheck disable=SC2086
expect_rc 0 "the required libraries from Debian" -- in_root apt-get install -y $debs
expect_rc 0 "rpm --initdb" -- "${R[@]}" --initdb
expect_rc 0 "rpm -i" -- "${R[@]}" -i --nodeps "$rpm1"
[ "$("${R[@]}" -q --qf '%{VERSION}-%{RELEASE}' vigil 2>/dev/null)" = "$ver-1" ] && ok || bad "rpm -q vigil after install"
mode_is "$root/usr/sbin/vigil" "755 root root" "binary"
mode_is "$root/etc/vigil/vigil.yaml" "644 root root" "config"
mode_is "$root/var/lib/vigil" "700 root root" "state dir made by %post"
[ "$(in_root systemctl is-enabled vigil.service 2>&1)" = enabled ] && ok ||
	bad "%post did not enable: $(in_root systemctl is-enabled vigil.service 2>&1)"
expect_rc 0 "vigil --version in the root" -- in_root vigil --version
[ "$(cat "$tmp/out")" = "vigil $ver" ] && ok || bad "vigil --version: $(cat "$tmp/out")"
in_root vigil check --root / --quick >"$tmp/check.out" 2>"$tmp/check.err"
rc=$?
[ $rc -le 1 ] && ok || bad "vigil check --root /: exit $rc: $(head -3 "$tmp/check.err")"

printf '\nchecks:\n  command_timeout: 20\n' >>"$root/etc/vigil/vigil.yaml"
cp "$root/etc/vigil/vigil.yaml" "$tmp/edited.yaml"
echo kept >"$root/var/lib/vigil/state-file"
expect_rc 0 "rpm -U to release 2" -- "${R[@]}" -U --nodeps "$rpm2"
[ "$("${R[@]}" -q --qf '%{VERSION}-%{RELEASE}' vigil 2>/dev/null)" = "$ver-2" ] && ok || bad "rpm -q vigil after upgrade"
cmp -s "$tmp/edited.yaml" "$root/etc/vigil/vigil.yaml" && ok || bad "upgrade changed the edited vigil.yaml"
ls "$root"/etc/vigil/vigil.yaml.rpm* >/dev/null 2>&1 && bad "upgrade left $(ls "$root"/etc/vigil/vigil.yaml.rpm*)" || ok
[ "$(cat "$root/var/lib/vigil/state-file" 2>/dev/null)" = kept ] && ok || bad "upgrade lost the state"
[ "$(in_root systemctl is-enabled vigil.service 2>&1)" = enabled ] && ok || bad "upgrade disabled the unit"

# Erase: rpm has no purge; the state stays, the edited configuration as .rpmsave.
expect_rc 0 "rpm -e" -- "${R[@]}" -e vigil
[ ! -e "$root/usr/sbin/vigil" ] && ok || bad "erase left /usr/sbin/vigil"
cmp -s "$tmp/edited.yaml" "$root/etc/vigil/vigil.yaml.rpmsave" && ok || bad "erase did not keep the edited config as .rpmsave"
[ "$(cat "$root/var/lib/vigil/state-file" 2>/dev/null)" = kept ] && ok || bad "erase lost /var/lib/vigil"
[ -e "$root/etc/systemd/system/multi-user.target.wants/vigil.service" ] && bad "%preun did not disable the unit" || ok

echo "pkg.rpm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
