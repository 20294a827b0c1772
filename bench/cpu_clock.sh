# Sourced by bench/run.sh and bench/ab.sh: the CPU some processes use while a command runs.
#
#   out=$(cpu_during MS_FILE PID[,PID...] CMD...)   CMD's stdout; the processes' CPU in ms goes
#                                                     to MS_FILE
#   cpu_ticks PID...                                 utime+stime so far, in clock ticks (the
#                                                     wrk stages: 5 s runs, ~300 ticks each)
#
# perf's task-clock when perf can count the processes (Debian's linux-perf): exact to the
# microsecond. Otherwise utime+stime from /proc, in clock ticks (10 ms): a 4,000-request run of
# 1 KB bodies uses ~100 ms of the proxy's CPU, so a tick more or less moved its figure by 10%
# (25.0 or 27.5 ms per 1,000 requests) and flipped the body-size ratios between runs.
# CPU_CLOCK says which one is in use ("perf task-clock" or "/proc ticks").

if perf stat -e task-clock -x, -o /dev/null -p $$ -- true 2>/dev/null; then
  CPU_CLOCK="perf task-clock"
else
  CPU_CLOCK="/proc ticks"
fi

cpu_ticks() {  # cpu_ticks PID...: utime+stime summed over the processes, clock ticks
  local sum=0 p
  for p in "$@"; do sum=$((sum + $(awk '{print $14+$15}' "/proc/$p/stat"))); done
  echo "$sum"
}

cpu_during() {
  local ms_file=$1 pids=$2 before after
  shift 2
  if [[ $CPU_CLOCK == perf* ]]; then
    perf stat -e task-clock -x, -o "$ms_file.perf" -p "$pids" -- "$@"
    # "<not counted>" when the processes never ran during the command.
    awk -F, '$3 == "task-clock" { print ($1 ~ /^[0-9.]+$/ ? $1 : 0) }' "$ms_file.perf" >"$ms_file"
    return
  fi
  # shellcheck disable=SC2086
  before=$(cpu_ticks ${pids//,/ })
  "$@"
  # shellcheck disable=SC2086
  after=$(cpu_ticks ${pids//,/ })
  echo $(((after - before) * 1000 / $(getconf CLK_TCK))) >"$ms_file"
}
