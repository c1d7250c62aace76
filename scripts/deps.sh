#!/usr/bin/env bash
# Installs what vigil needs to build and test, from Debian's archive only.
# Idempotent: installs nothing when everything is there.
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config libyaml-dev libsqlite3-dev libssl-dev
	libbpf-dev libelf-dev zlib1g-dev libmsgpack-dev bpftool clang llvm)
TEST_PKGS=(libcmocka-dev clang libclang-rt-14-dev python3 python3-msgpack
	debootstrap rpm file groff-base systemd-container	# these five: tests/pkg
	openssl sqlite3 nodejs)		# tests/cli/collector-*: CSRs, the store, @fluent-org/logger

want=("${BUILD_PKGS[@]}")
if [ "${1:-}" = "--test" ]; then
	want+=("${TEST_PKGS[@]}")
fi

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# npm: Debian's package, unless the nodejs installed already brings its own
# (NodeSource's does, and conflicts with Debian's npm).
if [ "${1:-}" = "--test" ] && ! command -v npm >/dev/null &&
	! dpkg-query -W -f='${Status}' npm 2>/dev/null | grep -q "ok installed"; then
	missing+=(npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
