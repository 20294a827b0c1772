#!/usr/bin/env bash
# System calls per request, the gateway against nginx on the same upstream and the same load,
# counted by perf's syscall tracepoints (strace slows the proxy ~100x and so changes which of
# Asio's speculative reads find data: its counts are not the unslowed ones).
#
#   bench/syscalls.sh            (GATEWAY=path for another build; MODEL=auto; SECS=3; CONNS=32)
#
# wrk on CPU 0; llm-sim, the gateway (threads: 1) and nginx (1 worker) on CPU 1, measured one
# after the other. Prints, per proxy, each syscall made at least 0.005 times a request. Uses
# build-release/ as bench/run.sh leaves it. Every process started here is stopped by PID.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
B=$root/build-release
GATEWAY=${GATEWAY:-$B/hybrid-gateway} MODEL=${MODEL:-phi-4-mini} SECS=${SECS:-3} CONNS=${CONNS:-32}
CALLS=(read recvfrom recvmsg write writev sendto sendmsg epoll_wait epoll_ctl timerfd_settime
       getsockopt setsockopt accept4 futex)
T=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null; rm -rf "$T"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The upstream as bench/run.sh runs it: 32-token answers (a 579-byte response).
taskset -c 1 "$B/llm-sim" --listen 127.0.0.1:0 --model phi-4-mini:answer_tokens=32 \
  --model gpt-oss-20b:answer_tokens=32 >"$T/sim.out" 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do grep -q listening "$T/sim.out" && break; sleep 0.05; done
SIM_PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/sim.out")

GW_PORT=$(free_port) GW_ADMIN=$(free_port) NG_PORT=$(free_port)
sed -e "s|@LISTEN@|127.0.0.1:$GW_PORT|" -e "s|@ADMIN@|127.0.0.1:$GW_ADMIN|" \
    -e "s|@UPSTREAM@|http://127.0.0.1:$SIM_PORT/v1|g" "$root/bench/gateway.yaml.in" >"$T/gw.yaml"
taskset -c 1 "$GATEWAY" --config "$T/gw.yaml" >/dev/null 2>"$T/gw.err" & GW_PID=$!; PIDS+=("$GW_PID")
mkdir -p "$T/ng/logs"
sed -e "s|@PREFIX@|$T/ng|g" -e "s|@UPSTREAM@|127.0.0.1:$SIM_PORT|g" -e "s|@WORKERS@|1|g" \
    -e "s|@LISTEN@|127.0.0.1:$NG_PORT|g" -e "s|@NOFILE@|20000|g" -e "s|@ACCESS_LOG@|access_log off;|g" \
    "$root/bench/nginx.conf.in" >"$T/ng/nginx.conf"
taskset -c 1 /usr/sbin/nginx -p "$T/ng/" -c "$T/ng/nginx.conf" -e "$T/ng/logs/error.log" & PIDS+=($!)
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$GW_ADMIN/healthz" && [[ -s $T/ng/nginx.pid ]] && break
  sleep 0.05
done
NG_WORKER=$(pgrep -P "$(cat "$T/ng/nginx.pid")" | head -1)

events=$(printf 'syscalls:sys_enter_%s,' "${CALLS[@]}")
for target in "gateway $GW_PID $GW_PORT $MODEL" "nginx $NG_WORKER $NG_PORT phi-4-mini"; do
  read -r name pid port model <<<"$target"
  # bench/run.sh's small request
  printf '{"model":"%s","messages":[{"role":"user","content":"Say hello to the benchmark."}]}\n' \
    "$model" >"$T/body"
  perf stat -x, -e "${events%,}" -p "$pid" -o "$T/$name.stat" & STAT=$!
  sleep 0.3
  BENCH_BODY_FILE=$T/body taskset -c 0 wrk -t1 -c"$CONNS" -d"${SECS}s" -s "$root/bench/post.lua" \
    "http://127.0.0.1:$port/v1/chat/completions" >"$T/$name.wrk"
  kill -INT "$STAT"; wait "$STAT" 2>/dev/null || true
  n=$(awk '/requests in/{print $1}' "$T/$name.wrk")
  echo "== $name ($model): $n requests"
  awk -F, -v n="$n" '$1 ~ /^[0-9]+$/ && $1 / n >= 0.005 {
      sub(/syscalls:sys_enter_/, "", $3); t += $1 / n; printf "  %6.2f %s\n", $1 / n, $3 }
    END { printf "  %6.2f total\n", t }' "$T/$name.stat"
done
