#!/usr/bin/env bash
# README command 1: install what is needed, build, and run the gateway in --demo mode
# (two simulated upstreams in-process; API on 127.0.0.1:8080, admin on 127.0.0.1:9090).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF
cmake --build build --target hybrid-gateway llm-sim
exec build/hybrid-gateway --demo
