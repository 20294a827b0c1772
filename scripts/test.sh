#!/usr/bin/env bash
# README command 2 (and CI): install what is needed, build, and run every test: unit tests,
# integration tests against real processes, a real Prometheus, headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/install-test-deps.sh
scripts/install-browser-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON
cmake --build build
export GW_ARTIFACTS_DIR="${GW_ARTIFACTS_DIR:-$PWD/build/test-artifacts}"
export GW_OBS_REQUIRE=1  # a missing prometheus/promtool fails the run instead of skipping
ctest --test-dir build --output-on-failure
