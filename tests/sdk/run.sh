#!/bin/sh
# OpenAI Node SDK tests of hybrid-gateway: installs the pinned packages (npm ci, from
# package-lock.json) when node_modules is missing, then runs sdk.test.mjs with node's test runner.
# Env: GW_BUILD_DIR (default <repo>/build), GW_ARTIFACTS_DIR (default $GW_BUILD_DIR/test-artifacts).
set -eu
cd "$(dirname "$0")"
# Every pinned package must be there: an older checkout's node_modules may lack the newer ones.
if [ ! -d node_modules/openai ] || [ ! -d node_modules/ai ] || [ ! -d node_modules/@langchain/openai ]; then
  npm ci --no-audit --no-fund
fi
exec node --test --test-concurrency=1 sdk.test.mjs agents.test.mjs surface.test.mjs
