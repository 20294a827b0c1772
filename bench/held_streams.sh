#!/bin/bash
# Bytes per held stream: N streams (1 token/s from llm-sim, so all stay open) through one gateway
# (`threads: 1`, bench/gateway.yaml.in); prints (RSS with N held - RSS before) / N. A quick loop
# for memory work; bench/run.sh's hold stage measures the same beside nginx.
#   B=build N=2000 [MODEL=auto] [WRAP="heaptrack -o out"] bench/held_streams.sh
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
B=$(cd "${B:-$BENCH/../build}" && pwd); N=${N:-2000}; MODEL=${MODEL:-phi-4-mini}
T=$(mktemp -d); PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
[[ -x $T/loadgen ]] || g++ -O2 -std=c++20 -DBOOST_ASIO_NO_DEPRECATED "$BENCH/loadgen.cpp" -o "$T/loadgen" -pthread
"$B/llm-sim" --listen 127.0.0.1:0 --threads 1 --model phi-4-mini:answer_tokens=32 \
  --model gpt-oss-20b:answer_tokens=32 >"$T/sim.out" 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do grep -q listening "$T/sim.out" && break; sleep 0.05; done
SP=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/sim.out")
GP=$(free_port); AP=$(free_port)
sed -e "s|@LISTEN@|127.0.0.1:$GP|; s|@ADMIN@|127.0.0.1:$AP|; s|@UPSTREAM@|http://127.0.0.1:$SP/v1|" \
  "$BENCH/gateway.yaml.in" >"$T/gw.yaml"
ulimit -n "$(ulimit -Hn)"
${WRAP:-} "$B/hybrid-gateway" --config "$T/gw.yaml" >"$T/gw.out" 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null "127.0.0.1:$GP/v1/models" && break; sleep 0.1; done
GWP=$(pgrep -f "^$B/hybrid-gateway --config $T/gw.yaml")
printf '{"model":"%s","stream":true,"messages":[{"role":"user","content":"Hold this stream open [sim:tps=1][sim:tokens=600]"}]}\n' \
  "$MODEL" >"$T/body"
r0=$(awk '/^VmRSS:/{print $2}' "/proc/$GWP/status")
"$T/loadgen" hold --port "$GP" --body-file "$T/body" --streams "$N" --hold 6 --ramp 200 >"$T/hold.out" &
LG=$!
sleep 5
r1=$(awk '/^VmRSS:/{print $2}' "/proc/$GWP/status")
wait $LG || true
cat "$T/hold.out"
echo "RSS before $r0 kB, with $N held $r1 kB, per stream $(((r1 - r0) * 1024 / N)) B"
kill -TERM "$GWP"; sleep 2  # a clean exit, so a WRAP=heaptrack run can finish its file
