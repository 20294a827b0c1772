#!/usr/bin/env bash
# Installs what the browser and SDK tests (tests/browser, tests/sdk) need: Debian's chromium,
# node + npm, and their npm packages from the lock files. Idempotent: re-running it installs
# nothing new. Never downloads a browser build: playwright-core drives /usr/bin/chromium.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=()
[[ -x /usr/bin/chromium ]] || packages+=(chromium)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

if ((${#packages[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends \
    "${packages[@]}"
fi

# playwright-core has no install script that fetches browsers; this is belt and braces.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# The npm packages of the browser tests and of the OpenAI SDK tests, from their lock files.
for dir in tests/browser tests/sdk; do
  cd "$root/$dir"
  # Skip npm ci when node_modules already holds the versions the lock pins.
  if node -e '
      const lock = require("./package-lock.json");
      for (const [p, e] of Object.entries(lock.packages || {})) {
        if (!p) continue;
        if (require("./" + p + "/package.json").version !== e.version) process.exit(1);
      }' 2>/dev/null; then
    echo "$dir: node_modules up to date"
  else
    npm ci --no-audit --no-fund
  fi
done
