#!/usr/bin/env bash
# Configures and builds one tree: scripts/build.sh DIR [cmake options...]
set -euo pipefail
dir=$1
shift
src=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$src" -B "$dir" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
