#!/usr/bin/env bash
# collector-cli.sh SCENARIO VIGIL_COLLECTOR: one of the collector's
# whole-program tests, tests/cli/collector_SCENARIO.py (enroll, hostile,
# scale, crash, interop). The collector is the real binary on a loopback
# port in a scratch directory; the clients are Python's ssl and
# python3-msgpack with keys from the openssl command, and for interop the
# npm package @fluent-org/logger. Exit 77: skipped (npm registry unreachable).
set -uo pipefail
scenario=$1
bin=$2
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3	# Debian's, where python3-msgpack is installed
need=(openssl sqlite3)
[ "$scenario" = interop ] && need+=(node npm)
for tool in "${need[@]}"; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/deps.sh --test)"; exit 1; }
done
$PY -c 'import msgpack' || { echo "FAIL: python3-msgpack is missing (scripts/deps.sh --test)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$here" && PYTHONPATH="$here" $PY "$here/collector_$scenario.py" "$bin" "$tmp"
