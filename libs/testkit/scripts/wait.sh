# Bounded waits for the shell operations, sourced by db.sh here and by the repository's scripts/stack.sh, demo.sh
# and docker-setup.sh: one loop each for "wait until it answers" and "stop it", each with its bound.

# wait_up WHO PID BOUND_S LOG CHECK...: runs CHECK every 0.25 s until it succeeds (returns 0). When PID exits
# first, prints the last lines of LOG and returns 1; after BOUND_S seconds says so and returns 2. WHO begins each
# message (e.g. "db: mariadb").
wait_up() {
  local who="$1" pid="$2" bound="$3" log="$4"
  shift 4
  local deadline=$((SECONDS + bound))
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$who exited during start-up; last lines of $log:" >&2
      tail -n 25 "$log" >&2 || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "$who did not answer within ${bound}s; see $log" >&2
      return 2
    fi
    sleep 0.25
  done
}

# stop_pid PID SIGNAL BOUND_S: sends SIGNAL to PID, waits up to BOUND_S seconds for it to exit, then SIGKILL.
# Returns 1 when PID was not running (nothing to stop), else 0.
stop_pid() {
  local pid="$1" sig="$2" bound="$3" i
  kill -0 "$pid" 2>/dev/null || return 1
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < bound * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  kill -KILL "$pid" 2>/dev/null || true
  return 0
}
