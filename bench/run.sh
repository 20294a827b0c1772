#!/usr/bin/env bash
# hybrid-gateway benchmarks against direct and nginx, side by side in one run.
#
#   bench/run.sh                 build Release into build-release/, run everything (~5 min plus the build),
#                                print the markdown table (also saved as build-release/bench/table.md)
#   bench/run.sh --no-build      reuse build-release/ as it is
#   bench/run.sh --quick         1 round, short runs: checks the tooling, numbers meaningless
#                                (same as QUICK=1)
#
# Knobs (environment): ROUNDS (3), DUR (5, seconds per wrk run), RATE (1000, req/s for the
# latency run), LOAD_CPU (0) and SUT_CPU (1) for taskset, BUILD_DIR (build-release),
# HOLD_COUNTS ("1000 10000"), SIZES (request body bytes, "1000 32000 256000 1000000"),
# SIZE_CONNS (8, connections for the size runs), GATEWAY_LABEL (the gateway's version in the
# report; default: git describe of this tree), STAGES (all of "throughput latency streaming
# cpu sizes logging threads hold abort"; a subset for development), RESULTS (build-release/bench).
# Method and results: docs/benchmarks.md; profile with bench/profile.sh.
#
# Needs: cmake, ninja, g++, Boost (as for the gateway), nginx (Debian nginx-light), wrk,
# python3, taskset, curl. Everything listens on 127.0.0.1 only; every process started here
# is stopped by its PID on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-release}
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-5}
RATE=${RATE:-1000}
LAT_DUR=${LAT_DUR:-5}
STREAM_DUR=${STREAM_DUR:-4}
STREAM_CONNS=${STREAM_CONNS:-16}
CPU_REQS=${CPU_REQS:-20000}
LOAD_CPU=${LOAD_CPU:-0}
SUT_CPU=${SUT_CPU:-1}
HOLD_COUNTS=${HOLD_COUNTS:-"1000 10000"}
HOLD_SECS=${HOLD_SECS:-3}
SIZES=${SIZES:-"1000 32000 256000 1000000"}
STAGES=${STAGES:-"throughput latency streaming cpu sizes logging threads hold abort"}
QUICK=${QUICK:-0}
DO_BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) DO_BUILD=0 ;;
    --quick) QUICK=1 ;;
    -h|--help) sed -n 2,19p "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done
if [[ $QUICK == 1 ]]; then
  ROUNDS=1; DUR=2; LAT_DUR=2; STREAM_DUR=2; CPU_REQS=5000; HOLD_COUNTS="1000"; HOLD_SECS=1
fi
want() { [[ " $STAGES " == *" $1 "* ]]; }   # want STAGE: is it in this run?
RESULTS=${RESULTS:-$BUILD/bench}
BENCH=$ROOT/bench
# shellcheck source=bench/cpu_clock.sh
source "$BENCH/cpu_clock.sh"  # cpu_during (the size runs: exact when perf can count), cpu_ticks

LOADAVG_START=$(cut -d" " -f1-3 /proc/loadavg)
log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

# ------------------------------------------------------------------------------ build
if [[ $DO_BUILD == 1 ]]; then
  log "building Release into $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  ninja -C "$BUILD" -j2 hybrid-gateway llm-sim >&2
fi
LOADGEN=${LOADGEN:-$BUILD/bench-loadgen}
if [[ ! -x $LOADGEN || $BENCH/loadgen.cpp -nt $LOADGEN ]]; then
  log "building $LOADGEN"
  g++ -O2 -std=c++20 -DBOOST_ASIO_NO_DEPRECATED "$BENCH/loadgen.cpp" -o "$LOADGEN" -pthread
fi
GATEWAY=$BUILD/hybrid-gateway
SIM=$BUILD/llm-sim
NGINX=${NGINX:-/usr/sbin/nginx}
for bin in "$GATEWAY" "$SIM" "$NGINX" "$(command -v wrk)" "$(command -v taskset)"; do
  [[ -x $bin ]] || { echo "missing: $bin" >&2; exit 1; }
done

# ------------------------------------------------------------------------------ set-up
# 10,000 held streams need ~20,000 descriptors in a proxy (client + upstream socket each):
# the soft limit is raised to the hard one (raising the hard one needs CAP_SYS_RESOURCE).
NOFILE_SOFT_BEFORE=$(ulimit -Sn)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
mkdir -p "$RESULTS"
T=$(mktemp -d /tmp/gw-bench.XXXXXX)
RES=$RESULTS/results.tsv
: >"$RES"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # wait_http URL: until it answers at all
  for _ in $(seq 1 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "not answering: $1" >&2; return 1
}
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
record() { printf '%s\n' "$*" | tr ' ' '\t' >>"$RES"; }

# Upstream: llm-sim, zero delays (paced only where a request asks with [sim:...] directives).
"$(command -v taskset)" -c "$SUT_CPU" "$SIM" --listen 127.0.0.1:0 --threads 1 \
  --model phi-4-mini:answer_tokens=32 --model gpt-oss-20b:answer_tokens=32 >"$T/sim.out" 2>&1 &
SIM_PID=$!; PIDS+=("$SIM_PID")
for _ in $(seq 1 100); do grep -q listening "$T/sim.out" && break; sleep 0.05; done
SIM_PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/sim.out")
[[ -n $SIM_PORT ]] || { cat "$T/sim.out" >&2; exit 1; }

# nginx: keep-alive reverse proxy in front of the same upstream, own prefix per instance.
start_nginx() {  # start_nginx NAME WORKERS LOG(off|json) CPUS -> sets NG_PORT, NG_PID, NG_WORKERS
  local dir=$T/$1 log="access_log off;"
  NG_PORT=$(free_port)
  mkdir -p "$dir/logs"
  [[ $3 == json ]] && log="access_log $dir/logs/access.log json buffer=64k;"
  sed -e "s|@PREFIX@|$dir|g" -e "s|@UPSTREAM@|127.0.0.1:$SIM_PORT|g" -e "s|@WORKERS@|$2|g" \
      -e "s|@LISTEN@|127.0.0.1:$NG_PORT|g" -e "s|@NOFILE@|$NOFILE|g" -e "s|@ACCESS_LOG@|$log|g" \
      "$BENCH/nginx.conf.in" >"$dir/nginx.conf"
  taskset -c "$4" "$NGINX" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/logs/error.log" &
  NG_PID=$!; PIDS+=("$NG_PID")
  wait_http "http://127.0.0.1:$NG_PORT/sim/stats"
  for _ in $(seq 1 50); do
    NG_WORKERS=$(pgrep -P "$NG_PID" | head -"$2" | paste -sd' ')
    [[ $(wc -w <<<"$NG_WORKERS") -ge $2 ]] && break
    sleep 0.05
  done
}
start_nginx nginx 1 off "$SUT_CPU"
NGINX_PORT=$NG_PORT; NGINX_PID=$NG_PID; NGINX_WORKER=$NG_WORKERS

# hybrid-gateway: one thread, metrics and CORS on (always), access log to /dev/null.
GW_PORT=$(free_port); GW_ADMIN=$(free_port)
sed -e "s|@LISTEN@|127.0.0.1:$GW_PORT|" -e "s|@ADMIN@|127.0.0.1:$GW_ADMIN|" \
    -e "s|@UPSTREAM@|http://127.0.0.1:$SIM_PORT/v1|g" "$BENCH/gateway.yaml.in" >"$T/gateway.yaml"
"$GATEWAY" --check-config "$T/gateway.yaml" >&2
start_gateway() {
  taskset -c "$SUT_CPU" "$GATEWAY" --config "$T/gateway.yaml" >/dev/null 2>>"$T/gateway.err" &
  GW_PID=$!; PIDS+=("$GW_PID")
  wait_http "http://127.0.0.1:$GW_ADMIN/healthz"
}
GW_CRASHES=0
ensure_gateway() {  # ensure_gateway STAGE: restart (and record) a gateway that died
  kill -0 "$GW_PID" 2>/dev/null && return 0
  local rc=0; wait "$GW_PID" || rc=$?
  GW_CRASHES=$((GW_CRASHES + 1))
  log "GATEWAY DIED during $1 (exit status $rc); restarting it"
  record crash gw 0 "$1" "$rc"
  start_gateway
  PROC[gw-direct]=$GW_PID; PROC[gw-auto]=$GW_PID
}
start_gateway
GW_RSS_START=$(rss_kb "$GW_PID")

# Extra proxies for the logging and multi-core stages (each its own process, same upstream):
# nginx writing buffered JSON lines to a file beside a gateway whose log (always on) goes to a
# file on the same filesystem; nginx with 2 workers beside a gateway with `threads: 2`, both
# free to run on every core.
start_extra_gateway() {  # start_extra_gateway NAME THREADS LOGFILE CPUS -> sets XG_PORT, XG_PID
  local port admin; port=$(free_port); admin=$(free_port)
  sed -e "s|@LISTEN@|127.0.0.1:$port|" -e "s|@ADMIN@|127.0.0.1:$admin|" \
      -e "s|@UPSTREAM@|http://127.0.0.1:$SIM_PORT/v1|g" -e "s|threads: 1|threads: $2|" \
      "$BENCH/gateway.yaml.in" >"$T/$1.yaml"
  taskset -c "$4" "$GATEWAY" --config "$T/$1.yaml" >"$3" 2>>"$T/$1.err" &
  XG_PID=$!; PIDS+=("$XG_PID")
  wait_http "http://127.0.0.1:$admin/healthz"
  XG_PORT=$port
}
ALL_CPUS="$LOAD_CPU,$SUT_CPU"
declare -A XPORT XPROC
if want logging; then
  start_nginx nginx-log 1 json "$SUT_CPU"; XPORT[nginx-log]=$NG_PORT; XPROC[nginx-log]=$NG_WORKERS
  start_extra_gateway gw-log 1 "$T/gw-log.access.log" "$SUT_CPU"; XPORT[gw-log]=$XG_PORT; XPROC[gw-log]=$XG_PID
fi
if want threads; then
  start_nginx nginx-2w 2 off "$ALL_CPUS"; XPORT[nginx-2w]=$NG_PORT; XPROC[nginx-2w]=$NG_WORKERS
  start_extra_gateway gw-2t 2 /dev/null "$ALL_CPUS"; XPORT[gw-2t]=$XG_PORT; XPROC[gw-2t]=$XG_PID
  # The 1-worker floor pair, unpinned too, in the same rounds: what the second core adds.
  start_nginx nginx-1w 1 off "$ALL_CPUS"; XPORT[nginx-1w]=$NG_PORT; XPROC[nginx-1w]=$NG_WORKERS
  start_extra_gateway gw-1t 1 /dev/null "$ALL_CPUS"; XPORT[gw-1t]=$XG_PORT; XPROC[gw-1t]=$XG_PID
fi

# Targets: name, port, request body (the gateway's auto route differs only in the model name).
write_bodies() {  # write_bodies NAME MODEL
  printf '{"model":"%s","messages":[{"role":"user","content":"Say hello to the benchmark."}]}\n' "$2" >"$T/$1.body"
  printf '{"model":"%s","stream":true,"messages":[{"role":"user","content":"Count slowly [sim:ttft=20][sim:tps=200][sim:tokens=40]"}]}\n' "$2" >"$T/$1.sbody"
  # Held streams: 1 token/s, 600 tokens: they outlast the test; the load tool hangs up on all
  # of them at once when the hold is over (clients going away, as closed browser tabs do).
  printf '{"model":"%s","stream":true,"messages":[{"role":"user","content":"Hold this stream open [sim:tps=1][sim:tokens=600]"}]}\n' "$2" >"$T/$1.hbody"
  printf '{"model":"%s","stream":true,"messages":[{"role":"user","content":"Hang up on me [sim:tps=2][sim:tokens=40]"}]}\n' "$2" >"$T/$1.abody"
}
TARGETS=(direct nginx gw-direct gw-auto)
declare -A PORT=([direct]=$SIM_PORT [nginx]=$NGINX_PORT [gw-direct]=$GW_PORT [gw-auto]=$GW_PORT)
declare -A PROC=([direct]=$SIM_PID [nginx]=$NGINX_WORKER [gw-direct]=$GW_PID [gw-auto]=$GW_PID)
for t in "${!XPORT[@]}"; do PORT[$t]=${XPORT[$t]}; PROC[$t]=${XPROC[$t]}; done
write_bodies direct phi-4-mini; write_bodies nginx phi-4-mini
write_bodies gw-direct phi-4-mini; write_bodies gw-auto auto
for t in "${!XPORT[@]}"; do write_bodies "$t" phi-4-mini; done

# Sanity: every target answers 200, the gateway routes as intended.
for t in "${TARGETS[@]}"; do
  code=$(curl -s -o "$T/$t.sanity" -D "$T/$t.hdr" -w '%{http_code}' -H 'content-type: application/json' \
         --data-binary @"$T/$t.body" "http://127.0.0.1:${PORT[$t]}/v1/chat/completions")
  route=$(sed -n 's/^x-gateway-route: *\([a-z]*\).*/\1/ip' "$T/$t.hdr" | head -1)
  log "sanity $t: HTTP $code${route:+ route=$route}"
  [[ $code == 200 ]] || { cat "$T/$t.sanity" >&2; exit 1; }
  record sanity "$t" 0 route "${route:--}"
done

wrk_run() {  # wrk_run TARGET CONNS SECONDS [BODY_FILE] -> prints "rps non2xx errors requests"
  local t=$1 c=$2 d=$3 body=${4:-$T/$1.body} out
  out=$(BENCH_BODY_FILE="$body" taskset -c "$LOAD_CPU" wrk -t1 -c"$c" -d"${d}s" \
        -s "$BENCH/post.lua" "http://127.0.0.1:${PORT[$t]}/v1/chat/completions" 2>&1)
  echo "== $t c=$c body=$(basename "$body")" >>"$RESULTS/wrk.log"
  echo "$out" >>"$RESULTS/wrk.log"
  local rps non2xx errs reqs
  rps=$(awk '/^Requests\/sec:/{print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/{print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  errs=$(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' <<<"$out" \
         | awk '{print $1+$2+$3+$4}'); errs=${errs:-0}
  reqs=$(awk '/requests in/{print $1}' <<<"$out")
  echo "${rps:-0} $non2xx $errs ${reqs:-0}"
}
# wrk_cpu_run KIND TARGET ROUND CONNS SECONDS BODY_FILE LABEL: one wrk run, with the CPU the
# target's process(es) spent during it (utime+stime from /proc/PID/stat before and after) per
# 1,000 requests wrk completed; recorded as: KIND TARGET ROUND LABEL rps cpu_ms non2xx errors requests
TCK=$(getconf CLK_TCK)
wrk_cpu_run() {
  local kind=$1 t=$2 r=$3 c=$4 d=$5 body=$6 label=$7 before after rps non2xx errs reqs ms
  # shellcheck disable=SC2086
  before=$(cpu_ticks ${PROC[$t]})
  read -r rps non2xx errs reqs < <(wrk_run "$t" "$c" "$d" "$body")
  # shellcheck disable=SC2086
  after=$(cpu_ticks ${PROC[$t]})
  ms=$(python3 -c "print(f'{($after-$before)*1000/$TCK/max($reqs,1)*1000:.2f}')")
  log "$kind $label round $r $t: $rps req/s, CPU ${ms} ms per 1k requests ($reqs requests, non-2xx $non2xx, socket errors $errs)"
  record "$kind" "$t" "$r" "$label" "$rps" "$ms" "$non2xx" "$errs" "$reqs"
}
kv() { sed -n "s/.*[ ^]$1=\([^ ]*\).*/\1/p" <<<" $2"; }   # kv KEY LINE

: >"$RESULTS/wrk.log"; : >"$RESULTS/loadgen.log"
log "warm-up"
for t in "${TARGETS[@]}" "${!XPORT[@]}"; do wrk_run "$t" 32 1 >/dev/null; done

# ------------------------------------------------------------------------------ throughput
want throughput && for c in 32 256; do
  for r in $(seq 1 "$ROUNDS"); do
    for t in "${TARGETS[@]}"; do
      read -r rps non2xx errs _ < <(wrk_run "$t" "$c" "$DUR")
      log "rps c=$c round $r $t: $rps (non-2xx $non2xx, socket errors $errs)"
      record rps "$t" "$r" "c$c" "$rps" "$non2xx" "$errs"
    done
  done
done

ensure_gateway throughput

# ------------------------------------------------------------------------------ latency, open loop
want latency && for r in $(seq 1 "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    line=$(taskset -c "$LOAD_CPU" "$LOADGEN" rate --port "${PORT[$t]}" --body-file "$T/$t.body" \
           --rate "$RATE" --duration "$LAT_DUR" --warmup 1)
    echo "$t round $r: $line" >>"$RESULTS/loadgen.log"
    log "latency round $r $t: p50=$(kv lat_p50 "$line") p99=$(kv lat_p99 "$line") us"
    record lat "$t" "$r" "$(kv lat_p50 "$line")" "$(kv lat_p99 "$line")" "$(kv achieved "$line")" \
           "$(kv non2xx "$line")" "$(kv errors "$line")" "$(kv dropped "$line")"
  done
done

ensure_gateway latency

# ------------------------------------------------------------------------------ streaming
want streaming && for r in $(seq 1 "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    line=$(taskset -c "$LOAD_CPU" "$LOADGEN" stream --port "${PORT[$t]}" --body-file "$T/$t.sbody" \
           --connections "$STREAM_CONNS" --duration "$STREAM_DUR" --warmup 1)
    echo "$t round $r: $line" >>"$RESULTS/loadgen.log"
    log "stream round $r $t: ttft p50=$(kv ttft_p50 "$line") p99=$(kv ttft_p99 "$line") gap p50=$(kv gap_p50 "$line") p99=$(kv gap_p99 "$line") us"
    record stream "$t" "$r" "$(kv ttft_p50 "$line")" "$(kv ttft_p99 "$line")" "$(kv gap_p50 "$line")" \
           "$(kv gap_p99 "$line")" "$(kv streams "$line")" "$(kv non2xx "$line")" "$(kv errors "$line")"
  done
done

ensure_gateway streaming

# ------------------------------------------------------------------------------ CPU per 1,000 requests
# CPU time (utime+stime from /proc/PID/stat) of the proxy process — for `direct`, of the
# upstream itself — over a fixed number of requests from 32 closed-loop connections.
want cpu && for r in $(seq 1 "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    p=${PROC[$t]}
    before=$(cpu_ticks "$p"); sim_before=$(cpu_ticks "$SIM_PID")
    line=$(taskset -c "$LOAD_CPU" "$LOADGEN" closed --port "${PORT[$t]}" --body-file "$T/$t.body" \
           --connections 32 --requests "$CPU_REQS")
    after=$(cpu_ticks "$p"); sim_after=$(cpu_ticks "$SIM_PID")
    echo "$t round $r: $line" >>"$RESULTS/loadgen.log"
    ms=$(python3 -c "print(f'{($after-$before)*1000/$TCK/($CPU_REQS/1000):.1f}')")
    sim_ms=$(python3 -c "print(f'{($sim_after-$sim_before)*1000/$TCK/($CPU_REQS/1000):.1f}')")
    log "cpu round $r $t: ${ms} ms per 1k requests (upstream ${sim_ms})"
    record cpu "$t" "$r" "$ms" "$sim_ms" "$(kv ok "$line")" "$(kv non2xx "$line")" "$(kv errors "$line")"
  done
done

ensure_gateway cpu

# ------------------------------------------------------------------------------ request body sizes
# RAG-sized requests (bench/chat_body.py: a user message of numbered context documents padded to
# the size): a fixed number of requests from SIZE_CONNS closed-loop connections (loadgen closed,
# every request answered before the CPU is read: no requests cut off mid-run), requests/s and the
# proxy's CPU per 1,000 requests at each size. The upstream parses every body too (llm-sim, on
# the proxies' core: ~100 MB/s with nlohmann), so requests/s fall for every target alike as
# bodies grow; the CPU per request of the proxy process is the figure that isolates the proxy.
size_requests() {  # size_requests BYTES: enough requests for ~1-3 s a run at that size
  local n=150
  (( $1 <= 256000 )) && n=400
  (( $1 <= 32000 )) && n=2000
  (( $1 <= 1000 )) && n=4000
  [[ $QUICK == 1 ]] && n=$((n / 4))
  echo "$n"
}
closed_cpu_run() {  # closed_cpu_run KIND TARGET ROUND CONNS REQUESTS BODY_FILE LABEL
  local kind=$1 t=$2 r=$3 c=$4 n=$5 body=$6 label=$7 line ms pids
  pids=$(tr ' ' ',' <<<"${PROC[$t]}")
  line=$(cpu_during "$T/cpu.ms" "$pids" taskset -c "$LOAD_CPU" "$LOADGEN" closed \
         --port "${PORT[$t]}" --body-file "$body" --connections "$c" --requests "$n")
  echo "$kind $label $t round $r: $line" >>"$RESULTS/loadgen.log"
  ms=$(python3 -c "print(f'{$(cat "$T/cpu.ms")/$n*1000:.2f}')")
  log "$kind $label round $r $t: $(kv rps "$line") req/s, CPU ${ms} ms per 1k requests (p50 $(kv lat_p50 "$line") us)"
  record "$kind" "$t" "$r" "$label" "$(kv rps "$line")" "$ms" "$(kv non2xx "$line")" "$(kv errors "$line")" "$n"
}
SIZE_CONNS=${SIZE_CONNS:-8}
if want sizes; then
  for size in $SIZES; do
    for t in "${TARGETS[@]}"; do
      model=phi-4-mini; [[ $t == gw-auto ]] && model=auto
      python3 "$BENCH/chat_body.py" "$size" "$model" >"$T/$t.size$size"
      code=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
             --data-binary @"$T/$t.size$size" "http://127.0.0.1:${PORT[$t]}/v1/chat/completions")
      [[ $code == 200 ]] || log "WARNING: $t answers HTTP $code to a $size-byte body"
    done
    n=$(size_requests "$size")
    for r in $(seq 1 "$ROUNDS"); do
      for t in "${TARGETS[@]}"; do
        closed_cpu_run size "$t" "$r" "$SIZE_CONNS" "$n" "$T/$t.size$size" "$size"
      done
    done
  done
  ensure_gateway sizes
fi

# ------------------------------------------------------------------------------ logging pair
# The floor pair (nginx access_log off; the gateway, whose log is always on, writing it to
# /dev/null) beside the fair-logging pair (nginx: buffered JSON lines to a file; the gateway:
# its log to a file), alternated in the same rounds, small body.
if want logging; then
  for c in 32 256; do
    for r in $(seq 1 "$ROUNDS"); do
      for t in nginx gw-direct nginx-log gw-log; do
        wrk_cpu_run logging "$t" "$r" "$c" "$DUR" "$T/$t.body" "c$c"
      done
    done
  done
  record logsize nginx-log 0 bytes "$(stat -c %s "$T/nginx-log/logs/access.log" 2>/dev/null || echo 0)"
  record logsize gw-log 0 bytes "$(stat -c %s "$T/gw-log.access.log" 2>/dev/null || echo 0)"
  ensure_gateway logging
fi

# ------------------------------------------------------------------------------ two cores
# nginx with 2 workers against the gateway with `threads: 2`, and their 1-worker / 1-thread
# twins, all four unpinned (free to use both cores) and alternated in the same rounds; wrk stays
# on CPU LOAD_CPU and the upstream on SUT_CPU, so a second proxy thread competes with both.
if want threads; then
  for c in 32 256; do
    for r in $(seq 1 "$ROUNDS"); do
      for t in nginx-1w gw-1t nginx-2w gw-2t; do
        wrk_cpu_run threads "$t" "$r" "$c" "$DUR" "$T/$t.body" "c$c"
      done
    done
  done
fi

# ------------------------------------------------------------------------------ memory, held streams
want hold || HOLD_COUNTS=""
sleep 1
GW_RSS_IDLE=$(rss_kb "$GW_PID")
record mem gw-direct 0 idle_start "$GW_RSS_START"
record mem gw-direct 0 idle_after_load "$GW_RSS_IDLE"
record mem nginx 0 idle_after_load "$(rss_kb "$NGINX_WORKER")"
# A proxy holds 2 sockets per stream (client + upstream) and nginx counts both against
# worker_connections; keep 400 descriptors of margin for listeners, logs and idle keep-alive.
MAX_STREAMS=$(( (NOFILE - 400) / 2 ))
for n in $HOLD_COUNTS; do
  for t in gw-direct nginx; do
    held=$n
    (( held > MAX_STREAMS )) && held=$MAX_STREAMS
    p=${PROC[$t]}
    rss_before=$(rss_kb "$p")
    out=$T/hold.$t.$n
    taskset -c "$LOAD_CPU" "$LOADGEN" hold --port "${PORT[$t]}" --body-file "$T/$t.hbody" \
      --streams "$held" --hold "$HOLD_SECS" --ramp 200 >"$out" 2>&1 &
    lg=$!; PIDS+=("$lg")
    for _ in $(seq 1 1300); do grep -q READY "$out" && break; sleep 0.05; done
    sleep 0.5
    rss=$(rss_kb "$p")
    ready=$(grep READY "$out" || true)
    wait "$lg" || true
    echo "$t hold $n: $(tr '\n' ' ' <"$out")" >>"$RESULTS/loadgen.log"
    final=$(grep mode=hold "$out" || true)
    log "hold $held streams via $t: RSS $((rss / 1024)) MB; $final"
    record hold "$t" 0 "$n" "$held" "$rss" "$(kv established "$final")" "$(kv still_open "$final")" \
           "$(kv errors "$final")" "$(kv non2xx "$final")" "$(kv open_s "$ready")" "$rss_before"
    [[ $t == gw-direct ]] && ensure_gateway "hold $n"
    # Let the proxy notice the clients went away before the next count.
    for _ in $(seq 1 100); do
      [[ $(curl -s "http://127.0.0.1:$SIM_PORT/sim/stats" | sed -n 's/.*"active_streams":\([0-9]*\).*/\1/p') == 0 ]] && break
      sleep 0.1
    done
  done
done
sleep 1
record mem gw-direct 0 idle_after_streams "$(rss_kb "$GW_PID")"

# ------------------------------------------------------------------------------ health after the run
alive=yes; kill -0 "$GW_PID" 2>/dev/null || alive=no
curl -s "http://127.0.0.1:$GW_ADMIN/metrics" >"$RESULTS/gateway-metrics.txt" || true
record health gw 0 alive "$alive"

# Client-abort probe: 5 clients hang up mid-stream (a browser tab closed). Not a figure, a
# robustness check: the proxy must survive it. Done last because it may take the gateway down.
want abort && for t in nginx gw-direct; do
  taskset -c "$LOAD_CPU" "$LOADGEN" hold --port "${PORT[$t]}" --body-file "$T/$t.abody" \
    --streams 5 --hold 0.5 >"$T/abort.$t" 2>&1 || true
  sleep 1
  p=${PROC[$t]}; survived=yes
  if [[ $t == gw-direct ]]; then
    kill -0 "$GW_PID" 2>/dev/null || survived=no
    [[ $survived == no ]] && { rc=0; wait "$GW_PID" || rc=$?; survived="no (exit status $rc)"; }
  else
    curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/sim/stats" || survived=no
  fi
  log "client-abort probe via $t: survived=$survived"
  record abort "$t" 0 "$survived"
done
cp "$T/gateway.err" "$RESULTS/gateway.stderr" 2>/dev/null || true
cp "$T/nginx/logs/error.log" "$RESULTS/nginx-error.log" 2>/dev/null || true

# ------------------------------------------------------------------------------ report
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc=$(nproc)"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "kernel=$(uname -r)"
  echo "mem=$(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "gateway=${GATEWAY_LABEL:-$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)}"
  echo "nginx=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
  echo "wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
  echo "rounds=$ROUNDS"; echo "dur=$DUR"; echo "rate=$RATE"; echo "lat_dur=$LAT_DUR"
  echo "stream_conns=$STREAM_CONNS"; echo "stream_dur=$STREAM_DUR"; echo "cpu_reqs=$CPU_REQS"
  echo "load_cpu=$LOAD_CPU"; echo "sut_cpu=$SUT_CPU"; echo "nofile=$NOFILE"
  echo "nofile_soft_before=$NOFILE_SOFT_BEFORE"; echo "size_conns=$SIZE_CONNS"; echo "stages=$STAGES"
  echo "quick=$QUICK"; echo "cpu_clock=$CPU_CLOCK"
} >"$RESULTS/meta.txt"
echo "loadavg_start=${LOADAVG_START:-}" >>"$RESULTS/meta.txt"
python3 "$BENCH/report.py" "$RESULTS/results.tsv" "$RESULTS/meta.txt" "$RESULTS/gateway-metrics.txt" | tee "$RESULTS/table.md"
