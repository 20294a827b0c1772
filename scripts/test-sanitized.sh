#!/usr/bin/env bash
# The unit and integration suites again, built with AddressSanitizer + UndefinedBehaviorSanitizer
# (GCC): every heap/stack misuse, leak or undefined behaviour in the gateway, llm-sim or the tests
# fails the run. Called by scripts/test.sh after the plain run; runnable alone.
#   scripts/test-sanitized.sh            configure + build build-asan, run ctest -L 'unit|integration'
#   GW_ASAN_BUILD_DIR=dir                build elsewhere (default: build-asan)
#   extra arguments                      passed to ctest (e.g. -R integration.core)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build_dir="${GW_ASAN_BUILD_DIR:-$root/build-asan}"
jobs="${GW_BUILD_JOBS:-$(nproc)}"
started=$(date +%s)

# -O1 keeps sanitized code reasonably fast; -g1 gives file:line in reports at a fraction of -g's
# compile time and size. No NDEBUG: Boost's own assertions are checked too.
cmake -S . -B "$build_dir" -G Ninja -DBUILD_TESTING=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DGW_SANITIZE=address,undefined >/dev/null
cmake --build "$build_dir" -j "$jobs"
built=$(date +%s)

# Every report is fatal and makes the process exit non-zero; the integration harness also reads
# each gateway/llm-sim stderr on stop and fails the test on a sanitizer report (the exit code of
# a server stopped by SIGTERM is not always looked at).
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=0:strict_string_checks=1:check_initialization_order=1:detect_invalid_pointer_pairs=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export GW_SANITIZED=1  # the harness: allow slower start-up, check stderr for reports
export GW_ARTIFACTS_DIR="${GW_ARTIFACTS_DIR:-$build_dir/test-artifacts}"
status=0
ctest --test-dir "$build_dir" -L 'unit|integration' --output-on-failure -j "$jobs" "$@" || status=$?
ended=$(date +%s)
echo "test-sanitized: build $((built - started)) s, tests $((ended - built)) s, status $status"
exit $status
