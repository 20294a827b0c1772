#!/usr/bin/env bash
# clang-tidy over the project's own sources, with the checks in .clang-tidy; any warning fails.
#   scripts/tidy.sh [BUILD_DIR] [REGEX]
#     BUILD_DIR  a configured build dir whose compile_commands.json is used (default: build-tidy;
#                configured here when it has none). Generated sources in it are never checked.
#     REGEX      only the sources whose repo-relative path matches (grep -E), e.g. '^gateway/chat/'
#   GW_TIDY_JOBS=N   parallel clang-tidy processes (default 2: the machine has two cores)
#   GW_TIDY_TESTS=0  skip tests/ (the test sources take about half the time)
#   CLANG_TIDY=path  the binary (default: clang-tidy-16, Debian 12's newest, which has the
#                    coroutine check; else clang-tidy)
# Prints each warning once (a header's warning is reported by every source including it), a count
# per check and the wall time; exits 1 on any warning or clang-tidy error.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build-tidy}"
filter="${2:-}"
jobs="${GW_TIDY_JOBS:-2}"
tidy="${CLANG_TIDY:-}"
if [[ -z $tidy ]]; then
  if command -v clang-tidy-16 >/dev/null; then tidy=clang-tidy-16; else tidy=clang-tidy; fi
fi
command -v "$tidy" >/dev/null || {
  echo "tidy: $tidy not found (apt-get install -y clang-tidy-16)" >&2
  exit 2
}
# (Re)configure: compile_commands.json must list the sources as they are now (files move), one
# entry per .cpp (no unity batches, which clang-tidy would check as one file).
if [[ -f $build/CMakeCache.txt ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_UNITY_BUILD=OFF >/dev/null
else
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_UNITY_BUILD=OFF >/dev/null
fi
build="$(cd "$build" && pwd)"
start=$(date +%s)

# The project's own translation units: not generated ones (they live in the build dir), not
# vendored code. Headers are checked through them (-header-filter below).
dirs='base|policies|evaluation|gateway'
[[ ${GW_TIDY_TESTS:-1} != 0 ]] && dirs="$dirs|tests"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# A copy of compile_commands.json without the GCC-only flags clang rejects as errors.
python3 - "$build/compile_commands.json" "$root" "$dirs" "$filter" "$out" >"$out/files" <<'EOF'
import json, os, re, shlex, sys
commands, root, dirs, only, out = sys.argv[1:6]
gcc_only = {"-fno-var-tracking-assignments", "-fvar-tracking-assignments", "-fno-var-tracking"}
own = re.compile(r"^(%s)/" % dirs)
seen = set()
entries = json.load(open(commands))
for entry in entries:
    if "command" in entry:
        entry["command"] = shlex.join(a for a in shlex.split(entry["command"]) if a not in gcc_only)
    if "arguments" in entry:
        entry["arguments"] = [a for a in entry["arguments"] if a not in gcc_only]
with open(os.path.join(out, "compile_commands.json"), "w") as f:
    json.dump(entries, f)
for entry in entries:
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    rel = os.path.relpath(path, root)
    if rel.startswith("..") or not own.match(rel) or rel in seen or not os.path.exists(path):
        continue
    if only and not re.search(only, rel):
        continue
    seen.add(rel)
    print(path)
EOF
count=$(wc -l <"$out/files")
if ((count == 0)); then
  echo "tidy: no sources matched" >&2
  exit 2
fi
echo "tidy: $("$tidy" --version | grep -o 'version [0-9.]*'), $count sources, -j$jobs, build $build"

# GCC's flags in compile_commands.json that clang does not know only warn (-Wno-unknown-*);
# each file's output goes to its own log so parallel runs do not interleave.
header_filter="^$root/($dirs)/"
export tidy header_filter out
xargs -P "$jobs" -n 1 bash -c '
  log="$out/$(echo "$1" | md5sum | cut -c1-16).log"
  "$tidy" -p "$out" --quiet --header-filter="$header_filter" \
    --extra-arg=-Wno-unknown-warning-option --extra-arg=-Wno-unknown-argument \
    "$1" >"$log" 2>&1 || echo "$1" >>"$out/failed"
' tidy-one <"$out/files"

# One line per distinct warning, with its note lines, paths relative to the repo.
cat "$out"/*.log | python3 -c '
import re, sys
root = sys.argv[1] + "/"
blocks, current = {}, None
for line in sys.stdin:
    line = line.rstrip("\n").replace(root, "")
    if re.match(r"^\S+:\d+:\d+: (warning|error):", line):
        current = line
        blocks.setdefault(current, [])
    elif re.match(r"^\d+ warnings? (and \d+ errors? )?generated|^Suppressed|^Use -header-filter", line):
        current = None
    elif current is not None and len(blocks[current]) < 40:
        blocks[current].append(line)
for head in sorted(blocks):
    print(head)
    print("\n".join(blocks[head]))
checks = {}
for head in blocks:
    m = re.search(r"\[([\w.-]+)(,-warnings-as-errors)?\]$", head)
    name = m.group(1) if m else "clang-diagnostic"
    checks[name] = checks.get(name, 0) + 1
for name, n in sorted(checks.items(), key=lambda kv: -kv[1]):
    print("tidy: %4d %s" % (n, name))
print("tidy: %d distinct findings" % len(blocks))
sys.exit(1 if blocks else 0)
' "$root" && clean=1 || clean=0
echo "tidy: $(($(date +%s) - start)) s wall for $count sources"
# clang-tidy exits non-zero on every finding (WarningsAsErrors); a source that failed without one
# crashed or could not be read, and its whole log is shown.
if [[ -f $out/failed ]]; then
  while read -r src; do
    log="$out/$(echo "$src" | md5sum | cut -c1-16).log"
    if ! grep -qE '^\S+:[0-9]+:[0-9]+: (warning|error):' "$log"; then
      echo "tidy: clang-tidy failed on $src:" >&2
      cat "$log" >&2
      clean=0
    fi
  done <"$out/failed"
fi
((clean)) || exit 1
echo "tidy: clean"
