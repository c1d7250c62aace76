#!/usr/bin/env bash
# forward-interop.sh FWDTOOL: vigil's Forward codec against python3-msgpack,
# in both directions (see forward_interop.py).
set -uo pipefail
tool=$1
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3	# Debian's, where python3-msgpack is installed
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$PY -c 'import msgpack' || { echo "FAIL: python3-msgpack is missing (scripts/deps.sh --test)"; exit 1; }
$PY "$here/forward_interop.py" "$tool" "$tmp"
