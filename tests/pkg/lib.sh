# lib.sh: what the package tests share. Source it after setting $tmp (a
# scratch directory on disk, not tmpfs: roots are copied into it) and
# sourcing tests/cli/lib.sh.
#
# A fresh Debian 12 root made by debootstrap is kept under $VIGIL_PKG_CACHE
# (default /var/cache/vigil-test) and made again when missing: that takes a
# few minutes and the Debian archive; every later run copies it (seconds).
# Packages the tested .deb depends on are downloaded into its apt cache
# (once, and again only when the dependencies change), so an install into a
# copy resolves dependencies from the real archive's index without the
# network.
#   VIGIL_PKG_MIRROR    Debian mirror (default: the host's, else deb.debian.org)
#   VIGIL_PKG_CACHE     where the root is kept
#   VIGIL_PKG_REBUILD=1 make the root again

PKG_CACHE=${VIGIL_PKG_CACHE:-/var/cache/vigil-test}
PKG_ROOT=$PKG_CACHE/bookworm-root
PKG_STAMP=.vigil-test-root-v1	# change the suffix when the recipe below changes
PKG_INCLUDE=systemd,man-db	# a server's init, and man to resolve Documentation=

# pkg_need CMD DEBIAN_PACKAGE: the test is skipped (77) without CMD, and
# fails in CI, where scripts/deps.sh --test has installed it.
pkg_need() {
	command -v "$1" >/dev/null && return 0
	echo "$1 missing (the $2 package; scripts/deps.sh --test installs it)"
	[ -n "${CI:-}" ] && exit 1
	exit 77
}

# pkg_version: the project version $BUILD was configured with, in $ver.
pkg_version() {
	ver=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
	[ -n "$ver" ] || { echo "FAIL: no project version in $BUILD/CMakeCache.txt"; exit 1; }
}

# pkg_build DEB|RPM: cpack of $BUILD as release 1 into $tmp/out1 and as
# release 2 into $tmp/out2 (the same tree, for an upgrade).
pkg_build() {
	local gen=$1 var=CPACK_RPM_PACKAGE_RELEASE rel
	[ "$gen" = DEB ] && var=CPACK_DEBIAN_PACKAGE_RELEASE
	for rel in 1 2; do
		if ! (cd "$BUILD" && cpack -G "$gen" -B "$tmp/out$rel" -D "$var=$rel") \
			>"$tmp/cpack$rel.log" 2>&1; then
			tail -20 "$tmp/cpack$rel.log"
			echo "FAIL: cpack -G $gen (release $rel)"
			exit 1
		fi
	done
}

# The host's Debian mirror, so a site with its own mirror uses it.
pkg_mirror() {
	local m=${VIGIL_PKG_MIRROR:-}
	if [ -z "$m" ]; then
		m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
			/etc/apt/sources.list.d/*.sources 2>/dev/null |
			grep -oE 'https?://[^ ]*/debian/?( |$)' | head -1 | tr -d ' ')
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

# chroot_run ROOT CMD...: runs CMD inside ROOT as a maintainer would.
chroot_run() {
	local r=$1
	shift
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive HOME=/root "$@"
}

# Makes the cached root if it is missing (under a lock: one builder).
pkg_root_ensure() {
	local m new
	mkdir -p "$PKG_CACHE"
	exec 9>"$PKG_CACHE/lock"
	flock 9
	if [ "${VIGIL_PKG_REBUILD:-0}" = 1 ] || [ ! -f "$PKG_ROOT/$PKG_STAMP" ]; then
		m=$(pkg_mirror)
		new=$PKG_ROOT.new
		rm -rf "$new" "$PKG_ROOT"
		echo "pkg: making a Debian 12 root with debootstrap from $m (minutes, once)"
		if ! debootstrap --variant=minbase --include="$PKG_INCLUDE" bookworm "$new" "$m" \
			>"$tmp/debootstrap.log" 2>&1; then
			tail -20 "$tmp/debootstrap.log"
			echo "pkg: debootstrap failed; the package tests need the Debian archive once" >&2
			flock -u 9
			return 1
		fi
		cat >"$new/etc/apt/sources.list" <<-EOF
			deb $m bookworm main
			deb $m bookworm-updates main
			deb ${m%/debian*}/debian-security bookworm-security main
		EOF
		# debootstrap's own downloads are not needed again.
		chroot_run "$new" apt-get clean
		if ! chroot_run "$new" apt-get update -qq >"$tmp/apt.log" 2>&1; then
			cat "$tmp/apt.log"
			flock -u 9
			return 1
		fi
		touch "$new/$PKG_STAMP"
		mv "$new" "$PKG_ROOT"
	fi
	flock -u 9
}

# pkg_root_fetch PKG...|DEBFILE...: downloads what installing these needs
# into the cached root's apt cache (nothing when it is all there already).
pkg_root_fetch() {
	local args=() f rc
	exec 9>"$PKG_CACHE/lock"
	flock 9
	for f in "$@"; do
		if [ -f "$f" ]; then
			cp "$f" "$PKG_ROOT/tmp/"
			args+=("/tmp/$(basename "$f")")
		else
			args+=("$f")
		fi
	done
	chroot_run "$PKG_ROOT" apt-get install -y -qq --download-only "${args[@]}" \
		>"$tmp/fetch.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then	# an old index: refresh it once
		chroot_run "$PKG_ROOT" apt-get update -qq >>"$tmp/fetch.log" 2>&1 &&
			chroot_run "$PKG_ROOT" apt-get install -y -qq --download-only "${args[@]}" \
				>>"$tmp/fetch.log" 2>&1
		rc=$?
	fi
	for f in "${args[@]}"; do
		case $f in /tmp/*) rm -f "$PKG_ROOT$f" ;; esac
	done
	flock -u 9
	[ $rc -eq 0 ] || tail -20 "$tmp/fetch.log"
	return $rc
}

# pkg_root_copy DIR: a fresh root at DIR, with /proc mounted (pkg_root_drop undoes).
pkg_root_copy() {
	cp -a "$PKG_ROOT" "$1" && mount -t proc proc "$1/proc"
}

pkg_root_drop() {
	[ -d "$1" ] || return 0
	umount "$1/proc" 2>/dev/null
	rm -rf --one-file-system "$1"
}

# mode_is PATH "MODE OWNER GROUP" DESC
mode_is() {
	local got
	got=$(stat -c '%a %U %G' "$1" 2>/dev/null)
	if [ "$got" = "$2" ]; then ok; else bad "$3: $1 is '${got:-missing}', want '$2'"; fi
}

# The Debian packages that hold the shared libraries FILE needs (host side).
needed_packages() {
	local so path
	local so path p pkg
	for so in $(objdump -p "$1" | awk '$1 == "NEEDED" { print $2 }'); do
		path=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64/ { print $NF; exit }')
		pkg=
		# dpkg knows a library by the path its package ships, /lib or /usr/lib.
		for p in "$path" "$(readlink -f "$path")"; do
			for p in "$p" "${p#/usr}" "/usr$p"; do
				pkg=$(dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1)
				[ -n "$pkg" ] && break 2
			done
		done
		echo "${pkg:-?$so}"
	done | sort -u
}

# mode_in ROOT PATH "MODE OWNER GROUP" DESC: as mode_is, with owner and group
# named by ROOT's own account files (a system user made there has no name,
# or another one, on the host).
mode_in() {
	local got
	got=$(chroot_run "$1" stat -c '%a %U %G' "$2" 2>/dev/null)
	if [ "$got" = "$3" ]; then ok; else bad "$4: $2 is '${got:-missing}', want '$3'"; fi
}

# not_owned_by ROOT DIR USER: the paths under DIR (in ROOT) that USER does not own.
not_owned_by() {
	chroot_run "$1" find "$2" \( ! -user "$3" -o ! -group "$3" \) -printf '%p %u:%g\n' 2>&1
}
