#!/usr/bin/env bash
# libFuzzer campaigns against the gateway's untrusted-input code (tests/fuzz/, docs/testing.md).
#   scripts/fuzz.sh TARGET [SECONDS]   fuzz one target (default 600 s)
#   scripts/fuzz.sh all [SECONDS]      each target in turn, SECONDS each (the test command runs
#                                      `all 20` as a smoke run)
# Targets: GW_FUZZ_TARGETS in tests/fuzz/CMakeLists.txt (client_request sse_parser
# upstream_response config_load policies agent_answer ...)
# Builds build-fuzz with clang (-fsanitize=fuzzer,address,undefined). New inputs go to
# build-fuzz/corpus/TARGET (seeded from tests/fuzz/corpus/TARGET); a crash, leak, timeout or
# out-of-memory input is written to build-fuzz/artifacts/TARGET/ and fails the run: copy it into
# tests/fuzz/regressions/TARGET/ with the fix, and every ctest run replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# The list lives in one place: tests/fuzz/CMakeLists.txt.
read -r -a all_targets < <(sed -n '/^set(GW_FUZZ_TARGETS/,/)/p' tests/fuzz/CMakeLists.txt |
  sed 's/set(GW_FUZZ_TARGETS//; s/)//' | tr '\n' ' ') || true  # read: no final newline
target="${1:?usage: scripts/fuzz.sh TARGET|all [SECONDS]}"
seconds="${2:-600}"
build_dir="${GW_FUZZ_BUILD_DIR:-$root/build-fuzz}"
jobs="${GW_BUILD_JOBS:-$(nproc)}"
rss_limit_mb=2048        # an input that needs more memory than this is a finding
input_timeout_s=10       # one input running longer than this is a finding (quadratic parsing...)

if [[ $target == all ]]; then
  targets=("${all_targets[@]}")
else
  targets=("$target")
fi

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (scripts/install-test-deps.sh installs it)" >&2
  exit 1
fi
if [[ ! -f $build_dir/build.ninja ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DGW_SANITIZE=address,undefined -DGW_FUZZ=ON >/dev/null
fi
cmake --build "$build_dir" -j "$jobs" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
failed=()
for t in "${targets[@]}"; do
  corpus="$build_dir/corpus/$t"
  artifacts="$build_dir/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$build_dir/fuzz-$t.log"
  echo "fuzz: $t for ${seconds} s (log: $log)"
  status=0
  "$build_dir/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb="$rss_limit_mb" \
    -timeout="$input_timeout_s" -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$corpus" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  # The last status line and the final statistics: runs, execs/s, coverage.
  grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" | tr '\n' ' '
  echo
  if ((status != 0)); then
    echo "fuzz: $t FAILED (exit $status); the report:" >&2
    grep -E -A30 'ERROR: |runtime error:|==[0-9]+==|deadly signal|Test unit written' "$log" | head -60 >&2
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: findings in: ${failed[*]} (inputs in $build_dir/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${targets[*]}: no findings in ${seconds} s each"
