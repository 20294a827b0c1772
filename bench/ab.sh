#!/usr/bin/env bash
# A/B of two gateway binaries (or one binary with two flag sets) in front of the same llm-sim,
# alternated round by round: what a change or a flag costs, side by side in one run.
#
#   A=/tmp/gw-before B=build-release/hybrid-gateway bench/ab.sh
#   A=build-release/hybrid-gateway AFLAGS=--no-metrics B=build-release/hybrid-gateway bench/ab.sh
#
# wrk on CPU 0; both gateways (threads: 1) and llm-sim on CPU 1. MODELS ("phi-4-mini auto"),
# ROUNDS (3), DUR (4 s), CONNS (32), BODY_BYTES (unset: a one-line prompt; e.g. 1000000: a
# RAG-sized body from bench/chat_body.py). Prints requests/s and each gateway's CPU over the run
# (bench/cpu_clock.sh: perf's task-clock, or /proc ticks without perf) per 1,000 requests. Every
# process started here is stopped by PID on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
SIM=${SIM:-$root/build-release/llm-sim}
: "${A:?A=path of gateway A}" "${B:?B=path of gateway B}"
AFLAGS=${AFLAGS:-} BFLAGS=${BFLAGS:-} MODELS=${MODELS:-"phi-4-mini auto"} ROUNDS=${ROUNDS:-3} DUR=${DUR:-4}
CONNS=${CONNS:-32} BODY_BYTES=${BODY_BYTES:-}
# shellcheck source=bench/cpu_clock.sh
source "$root/bench/cpu_clock.sh"
T=$(mktemp -d)
PIDS=()
# The gateways' PIDs are in $T/*.pid: start_gateway runs in a command substitution, whose
# additions to PIDS the parent never sees (each run used to leave gateway A running).
trap 'kill "${PIDS[@]}" $(cat "$T"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$T"' EXIT

taskset -c 1 "$SIM" --listen 127.0.0.1:0 >"$T/sim.out" 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do grep -q listening "$T/sim.out" && break; sleep 0.05; done
SIM_PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/sim.out")

start_gateway() {  # name binary flags -> sets PORT_<name>
  cat >"$T/$1.yaml" <<Y
server: {listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", threads: 1, max_body_bytes: 2097152}
models:
  phi-4-mini: {upstream: "http://127.0.0.1:$SIM_PORT/v1"}
  gpt-oss-20b: {upstream: "http://127.0.0.1:$SIM_PORT/v1"}
routing: {draft: phi-4-mini, escalate: gpt-oss-20b, after_draft: {chars_under: 0, finish_reason_length: false}}
Y
  # shellcheck disable=SC2086
  taskset -c 1 "$2" --config "$T/$1.yaml" $3 >"$T/$1.out" 2>&1 & PIDS+=($!)
  echo $! >"$T/$1.pid"
  for _ in $(seq 1 100); do grep -q '"listening"' "$T/$1.out" && break; sleep 0.05; done
  sed -n 's/.*"listen":"127.0.0.1:\([0-9]*\)".*/\1/p' "$T/$1.out" | head -1
}
PORT_A=$(start_gateway a "$A" "$AFLAGS")
PORT_B=$(start_gateway b "$B" "$BFLAGS")
PID_A=$(cat "$T/a.pid"); PID_B=$(cat "$T/b.pid")

run() {  # run PORT PID -> "rps cpu_ms_per_1k"
  local out reqs
  out=$(cpu_during "$T/cpu.ms" "$2" taskset -c 0 wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$T/post.lua" \
        "http://127.0.0.1:$1/v1/chat/completions")
  reqs=$(awk '/requests in/{print $1}' <<<"$out")
  echo "$(awk '/Requests\/sec/{print $2}' <<<"$out") $(python3 -c "print(f'{$(cat "$T/cpu.ms")*1e3/max(${reqs:-0},1):.1f}')")"
}

for model in $MODELS; do
  if [[ -n $BODY_BYTES ]]; then
    python3 "$root/bench/chat_body.py" "$BODY_BYTES" "$model" >"$T/body"
  else
    printf '{"model":"%s","messages":[{"role":"user","content":"hi"}],"max_tokens":16}' "$model" >"$T/body"
  fi
  cat >"$T/post.lua" <<L
local f = assert(io.open("$T/body", "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "http://bench.test"
L
  for r in $(seq 1 "$ROUNDS"); do
    read -r a acpu < <(run "$PORT_A" "$PID_A")
    read -r b bcpu < <(run "$PORT_B" "$PID_B")
    echo "$model ${BODY_BYTES:-small} round $r: A=$a req/s ($acpu ms CPU/1k)  B=$b req/s ($bcpu ms CPU/1k)"
  done
done
