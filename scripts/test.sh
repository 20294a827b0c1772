#!/usr/bin/env bash
# README command 2 (and CI): install what is needed, build, and run every test: unit tests,
# integration tests against real processes, a real Prometheus, headless Chromium; then the unit
# and integration suites again under ASan+UBSan (scripts/test-sanitized.sh, build-asan/), and a
# short bounded run of every libFuzzer target (scripts/fuzz.sh all, build-fuzz/), and a short
# soak run (scripts/soak.sh; the long one is run by hand, docs/testing.md).
#   GW_TEST_SANITIZED=0        skip the sanitized run
#   GW_TEST_FUZZ_SECONDS=N     seconds per fuzz target (default 20; 0 skips the fuzz run)
#   GW_TEST_SOAK_SECONDS=N     the soak smoke run against build/ (default 25; 0 skips it)
# Every step runs even when an earlier one failed; the exit status is non-zero if any did.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/install-test-deps.sh
scripts/install-browser-deps.sh
# ccache keys on paths relative to the checkout, so a fresh clone elsewhere (CI) reuses what an
# earlier build of the same sources compiled: three builds (plain, sanitized, fuzz) stay cheap.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON
cmake --build build
export GW_ARTIFACTS_DIR="${GW_ARTIFACTS_DIR:-$PWD/build/test-artifacts}"
export GW_OBS_REQUIRE=1  # a missing prometheus/promtool fails the run instead of skipping
failed=()
ctest --test-dir build --output-on-failure || failed+=("ctest")
unset GW_ARTIFACTS_DIR
if [[ ${GW_TEST_SANITIZED:-1} != 0 ]]; then
  scripts/test-sanitized.sh || failed+=("sanitized")
fi
fuzz_seconds="${GW_TEST_FUZZ_SECONDS:-20}"
if ((fuzz_seconds > 0)); then
  scripts/fuzz.sh all "$fuzz_seconds" || failed+=("fuzz")
fi
soak_seconds="${GW_TEST_SOAK_SECONDS:-25}"
if ((soak_seconds > 0)); then
  GW_BUILD_DIR="$PWD/build" scripts/soak.sh "$soak_seconds" || failed+=("soak")
fi
if ((${#failed[@]})); then
  echo "test: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test: all passed"
