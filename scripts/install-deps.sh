#!/usr/bin/env bash
# Installs everything the build and the tests need, from Debian's archive only.
# Idempotent: re-running it installs nothing new. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libyaml-cpp-dev prometheus-cpp-dev nlohmann-json3-dev
  libsimdjson-dev libgoogle-perftools-dev
  libgtest-dev libgmock-dev libssl-dev libre2-dev
  python3 curl openssl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
