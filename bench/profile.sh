#!/usr/bin/env bash
# Profile the Release gateway under wrk load (perf, cpu-clock sampling; hardware counters are
# not available in this VM). Prints the top self-time symbols and the top inclusive ones.
#
#   bench/profile.sh [auto|phi-4-mini] [SECONDS] [BODY_BYTES]
#       (default: auto, 10 s, 32 connections, the small body; BODY_BYTES e.g. 32000 or 1000000
#       sends a RAG-sized body from bench/chat_body.py)
#
# Uses build-release/ as bench/run.sh left it (run that first, or build it yourself); GATEWAY
# names another gateway binary (e.g. an older build, for a before/after).
# Output: build-release/bench/profile-<model>-<bytes>-{self,children}.txt and .perf.data.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-release}
MODEL=${1:-auto}
SECS=${2:-10}
BODY_BYTES=${3:-small}
GATEWAY=${GATEWAY:-$BUILD/hybrid-gateway}
LOAD_CPU=${LOAD_CPU:-0}
SUT_CPU=${SUT_CPU:-1}
OUT=${RESULTS:-$BUILD/bench}
mkdir -p "$OUT"
T=$(mktemp -d /tmp/gw-profile.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

taskset -c "$SUT_CPU" "$BUILD/llm-sim" --listen 127.0.0.1:0 --model phi-4-mini:answer_tokens=32 \
  --model gpt-oss-20b:answer_tokens=32 >"$T/sim.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q listening "$T/sim.out" && break; sleep 0.05; done
SIM_PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/sim.out")
GW_PORT=$(free_port); GW_ADMIN=$(free_port)
sed -e "s|@LISTEN@|127.0.0.1:$GW_PORT|" -e "s|@ADMIN@|127.0.0.1:$GW_ADMIN|" \
    -e "s|@UPSTREAM@|http://127.0.0.1:$SIM_PORT/v1|g" "$ROOT/bench/gateway.yaml.in" >"$T/gateway.yaml"
taskset -c "$SUT_CPU" "$GATEWAY" --config "$T/gateway.yaml" >/dev/null 2>"$T/gw.err" &
GW_PID=$!; PIDS+=("$GW_PID")
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$GW_ADMIN/healthz" && break; sleep 0.05; done
if [[ $BODY_BYTES == small ]]; then
  printf '{"model":"%s","messages":[{"role":"user","content":"Say hello to the benchmark."}]}\n' "$MODEL" >"$T/body"
else
  python3 "$ROOT/bench/chat_body.py" "$BODY_BYTES" "$MODEL" >"$T/body"
fi
NAME=profile-$MODEL-$BODY_BYTES

BENCH_BODY_FILE="$T/body" taskset -c "$LOAD_CPU" wrk -t1 -c32 -d"$((SECS + 2))s" -s "$ROOT/bench/post.lua" \
  "http://127.0.0.1:$GW_PORT/v1/chat/completions" >"$OUT/$NAME-wrk.txt" 2>&1 &
WRK=$!; PIDS+=("$WRK")
sleep 1
perf record -e cpu-clock -F 2000 --call-graph dwarf,16384 -p "$GW_PID" -o "$OUT/$NAME.perf.data" -- sleep "$SECS" \
  >"$T/perf.log" 2>&1
wait "$WRK" || true
perf report -i "$OUT/$NAME.perf.data" --no-children --sort symbol --stdio --percent-limit 0.7 -g none 2>/dev/null \
  | sed -E 's/ +- +- *$//; s/[[:space:]]+$//' | grep -v '^$' >"$OUT/$NAME-self.txt"
perf report -i "$OUT/$NAME.perf.data" --children --sort symbol --stdio --percent-limit 4 -g none 2>/dev/null \
  | sed -E 's/ +- +- *$//; s/[[:space:]]+$//' | grep -v '^$' >"$OUT/$NAME-children.txt"
grep -E 'Requests/sec|Non-2xx|Socket' "$OUT/$NAME-wrk.txt" || true
echo "== self time (top) =="
grep -v '^#' "$OUT/$NAME-self.txt" | head -40
echo "== inclusive (children) =="
grep -v '^#' "$OUT/$NAME-children.txt" | head -40
