#!/usr/bin/env bash
# Installs what the observability tests and benchmarks start for real, from Debian's archive:
#   prometheus  (the server and promtool: tests/observability)
#   nginx-light (a reference proxy for benchmarks)
#   wrk         (the load generator for benchmarks)
#   clang, libclang-rt-14-dev (the libFuzzer targets in tests/fuzz: scripts/fuzz.sh; the runtime
#               libraries are only a Recommends of clang, and we install without those)
# Idempotent: installs only what is missing; does nothing (and needs no root) when all are present.
set -euo pipefail

packages=(prometheus nginx-light wrk clang libclang-rt-14-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-test-deps: all present (${packages[*]})"
  exit 0
fi

sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
echo "install-test-deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -q
# --no-install-recommends keeps prometheus from pulling its web UI build deps and exporters;
# policy-rc.d-less containers may print a harmless "invoke-rc.d: could not determine current
# runlevel" while the package's service is (not) started.
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

# The packages enable system services; the tests start their own Prometheus on a free port,
# so a packaged one running on :9090 is merely in the way of the demo's admin port. Say so.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  echo "install-test-deps: note: the packaged prometheus service is running on :9090" \
       "(sudo systemctl disable --now prometheus if the gateway's admin port needs it)"
fi
