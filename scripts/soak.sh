#!/usr/bin/env bash
# Soak test (docs/testing.md): llm-sim + hybrid-gateway on loopback for SECONDS (default 120)
# under mixed load: plain and streamed requests, `auto` routing, clients that abort mid-stream,
# malformed requests, a SIGHUP reload every 3 s (every fifth one an invalid file). Prints RSS and
# fds before/after; exits non-zero if the gateway died, grew, leaked fds or failed requests.
#   scripts/soak.sh [SECONDS] [--workers N]
#   GW_BUILD_DIR=build-asan scripts/soak.sh 60    the same against the sanitized build
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${GW_BUILD_DIR:-$PWD/build}"
if [[ ! -x $build_dir/hybrid-gateway || ! -x $build_dir/llm-sim ]]; then
  echo "soak: $build_dir/hybrid-gateway and llm-sim not built (scripts/test.sh builds them)" >&2
  exit 1
fi
exec python3 scripts/soak.py --build-dir "$build_dir" "$@"
