#!/usr/bin/env bash
# ocsf-interop.sh OCSFTOOL RECORDS_MD: vigil's OCSF records decoded by
# python3-msgpack, and docs/records.md held to them (see ocsf_interop.py).
set -uo pipefail
tool=$1
docs=$2
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3	# Debian's, where python3-msgpack is installed
$PY -c 'import msgpack' || { echo "FAIL: python3-msgpack is missing (scripts/deps.sh --test)"; exit 1; }
$PY "$here/ocsf_interop.py" "$tool" "$docs"
