#!/usr/bin/env bash
# The demo end to end, in one command, on a fresh machine: installs what is missing (Node 24 when the machine's is
# older, npm ci, etcd and dtm via npm run setup), starts etcd and dtm (scripts/stack.sh up) and trans, runs the app,
# then shows trans's transcript and the two gids with their final status in dtm. Stops everything it started, on
# success, on failure and on Ctrl-C; servers that already answered (e.g. your own `npm run stack:up`) are left as they
# were. Exit status 0 when both transactions succeeded and trans printed its four lines.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=../libs/testkit/scripts/wait.sh
source libs/testkit/scripts/wait.sh
say() { printf '\n==> %s\n' "$*"; }

trap 'echo "demo: interrupted before anything was started; nothing to stop" >&2; exit 130' INT TERM
say "installing what is missing (Node >= 22.12, npm ci, etcd, dtm)"
# shellcheck source=ensure-node.sh
source scripts/ensure-node.sh
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
SETUP_SKIP_DB=1 bash scripts/setup.sh # the demo needs no database

# trans's and the app's YAML (the Go example's by default); with stack.sh's STACK_* and DTM_CONF and the app's
# DTM_TARGET / DTM_HTTP they move the whole demo to other ports (test/integration/ctrl-c.int.test.ts does).
trans_yaml="${DEMO_TRANS_YAML:-apps/trans/etc/trans.yaml}"
app_yaml="${DEMO_APP_YAML:-apps/app/etc/config.yaml}"
trans_pid=""
trans_log="$(mktemp)"
up_log="$(mktemp)"
cleanup() {
  local status=$?
  # From here on Ctrl-C is ignored (by the commands below too): a second one must not leave a server running.
  trap '' INT TERM
  trap - EXIT
  if [ -n "$trans_pid" ] && kill -0 "$trans_pid" 2>/dev/null; then
    # SIGTERM: trans revokes its etcd registration, then exits; wait for that before etcd stops.
    kill -TERM "$trans_pid" 2>/dev/null || true
    wait "$trans_pid" 2>/dev/null || true
    echo "demo: trans stopped (pid $trans_pid)"
  fi
  # Only what this demo's `up` started ("etcd: started …"); servers that already answered are left running.
  # (An interrupted `up` has stopped what it started itself.)
  local ours=() s
  for s in dtm etcd; do grep -q "^$s: started" "$up_log" && ours+=("$s"); done
  if [ "${#ours[@]}" -gt 0 ]; then bash scripts/stack.sh down "${ours[@]}" || true; fi
  echo "demo: stopped what it started${ours[*]:+ (${ours[*]})}"
  rm -f "$trans_log" "$up_log"
  exit "$status"
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM

say "starting etcd and dtm"
bash scripts/stack.sh up | tee -i "$up_log" # -i: a Ctrl-C must not cut the record of what up started

say "starting trans (apps/trans)"
node apps/trans/src/trans.ts -f "$trans_yaml" >"$trans_log" 2>&1 &
trans_pid=$!
trans_started() { grep -q 'Starting rpc server at' "$trans_log"; }
wait_up "demo: trans" "$trans_pid" 30 "$trans_log" trans_started || exit 1

say "running the app (apps/app): one 2-phase message, one TCC"
app_out="$(node apps/app/src/main.ts -f "$app_yaml")" || { echo "demo: the app failed (above)" >&2; exit 1; }

# Stop trans first (it deregisters), so that its transcript is complete.
kill -TERM "$trans_pid" 2>/dev/null || true
wait "$trans_pid" 2>/dev/null || true
trans_pid=""

say "trans printed"
cat "$trans_log"
say "the app printed (<mode> <gid> <final status in dtm>)"
echo "$app_out"
lines="$(grep -c ' transfer ' "$trans_log" || true)"
[ "$lines" = 4 ] || { echo "demo: expected 4 transfer lines from trans, got $lines" >&2; exit 1; }
