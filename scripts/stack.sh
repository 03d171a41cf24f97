#!/usr/bin/env bash
# Local stack without Docker: etcd on 127.0.0.1:2379 and dtm (go-zero driver, boltdb) in the background.
#   up      start what is not already answering, wait until both answer (and dtm is registered), print ports and logs
#   down    stop exactly the processes `up` started (pid files in .stack/), dtm first, and take dtm's registration
#           out of etcd before etcd stops (dtm never revokes its lease itself); `down dtm` / `down etcd`: only that one
#   status  show what answers
#   etcd | dtm   run that server in the foreground (what `npm start` does)
#   wait    wait until etcd and dtm answer and dtm is registered
# dtm's ports and registration come from its config (infra/dtm/config.yml; DTM_CONF=<file> for another). With an
# empty MicroService.Target dtm registers nothing (direct connections only) and nobody waits for a registration.
# STACK_DIR, STACK_ETCD_PORT and STACK_ETCD_PEER_PORT move the state folder and etcd (the tests use free ports).
# Opt-in etcd security (docs/etcd-security.md), for `up`, `etcd` and `dtm` alike:
#   STACK_ETCD_AUTH=1   etcd with authentication: user root, password $STACK_ETCD_PASS (default dtm-gozero);
#                       dtm reaches it the way its go-zero driver allows, Target ...?user=root&password=...
#   STACK_ETCD_TLS=1    etcd over TLS with client certificates, made at start into .stack/certs (never committed);
#                       dtm's driver has no TLS setting, so dtm then registers nowhere: use --dtm localhost:36790
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=../libs/testkit/scripts/wait.sh
source "$root/libs/testkit/scripts/wait.sh"
state="${STACK_DIR:-$root/.stack}"
ETCD_BIN="${ETCD_BIN:-$(command -v etcd || true)}"
DTM_BIN="${DTM_BIN:-$root/.cache/bin/dtm}"
DTM_CONF="${DTM_CONF:-$root/infra/dtm/config.yml}"
ETCD_PORT="${STACK_ETCD_PORT:-2379}"
ETCD_PEER_PORT="${STACK_ETCD_PEER_PORT:-2380}"
WAIT_S="${STACK_WAIT_S:-30}"
export ETCDCTL_API=3
AUTH="${STACK_ETCD_AUTH:-}"
TLS="${STACK_ETCD_TLS:-}"
PASS="${STACK_ETCD_PASS:-dtm-gozero}"
CERTS="$state/certs"
# One data dir per mode: an etcd with authentication enabled stays so, and must not be reused by the plain mode.
ETCD_DATA="$state/etcd-data${AUTH:+-auth}${TLS:+-tls}"
ETCD_URL="http://127.0.0.1:$ETCD_PORT"
tls_flags=()
if [ -n "$TLS" ]; then
  ETCD_URL="https://127.0.0.1:$ETCD_PORT"
  tls_flags=(--cacert "$CERTS/ca.pem" --cert "$CERTS/client.pem" --key "$CERTS/client-key.pem")
fi
ctl() { etcdctl --endpoints="$ETCD_URL" --command-timeout=2s "${tls_flags[@]}" "$@"; }
ctl_auth() { if [ -n "$AUTH" ]; then ctl --user "root:$PASS" "$@"; else ctl "$@"; fi; }

# One top-level key of dtm's YAML config (or of its MicroService section), quotes and trailing comment removed.
conf() { # key
  [ -f "$DTM_CONF" ] || { echo "stack: dtm config $DTM_CONF not found" >&2; exit 1; }
  sed -n "s/^[[:space:]]*$1:[[:space:]]*//p" "$DTM_CONF" | head -1 | sed -E 's/[[:space:]]+#.*$//; s/[[:space:]]+$//; s/^"(.*)"$/\1/; s/^'"'"'(.*)'"'"'$/\1/'
}
DTM_HTTP_PORT="$(conf HttpPort)"
DTM_HTTP_PORT="${DTM_HTTP_PORT:-36789}"
DTM_GRPC_PORT="$(conf GrpcPort)"
DTM_GRPC_PORT="${DTM_GRPC_PORT:-36790}"
DTM_TARGET="$(conf Target)"    # etcd://<host:port>/<key>, or empty: no registration
DTM_ENDPOINT="$(conf EndPoint)" # what dtm publishes under <key>/<lease>
DTM_HTTP="http://127.0.0.1:$DTM_HTTP_PORT"
REG_ETCD=""
REG_KEY=""
if [ -n "$DTM_TARGET" ]; then
  [[ "$DTM_TARGET" =~ ^etcd://([^/]+)/([^?]+)(\?.*)?$ ]] ||
    { echo "stack: MicroService.Target \"$DTM_TARGET\" in $DTM_CONF is not etcd://host:port/key (or empty)" >&2; exit 1; }
  REG_ETCD="${BASH_REMATCH[1]}"
  REG_KEY="${BASH_REMATCH[2]}"
fi
if [ -n "$TLS" ]; then DTM_TARGET=""; fi # dtm's driver cannot reach a TLS etcd: it registers nowhere
# dtm's go-zero driver takes the etcd account from its Target's query and registers it for exactly the hosts
# written there; dtm's branch calls resolve etcd://<hosts>/... with it only when <hosts> are spelled the same,
# so the Target names 127.0.0.1:<port>, the hosts of the apps' Etcd.Hosts (and so of the branch URLs).
if [ -n "$AUTH" ] && [ -n "$DTM_TARGET" ]; then
  REG_ETCD="127.0.0.1:$ETCD_PORT"
  DTM_TARGET="etcd://$REG_ETCD/$REG_KEY?user=root\&password=$PASS"
fi
dtm_conf() {
  if [ -z "$AUTH$TLS" ]; then echo "$DTM_CONF"; return; fi
  sed "s|^  Target: .*|  Target: $DTM_TARGET|" "$DTM_CONF" >"$state/dtm-config.yml"
  echo "$state/dtm-config.yml"
}
# The first start with STACK_ETCD_AUTH creates root and enables authentication (kept in the etcd data dir).
enable_auth() {
  [ -n "$AUTH" ] || return 0
  ctl_auth auth status 2>/dev/null | grep -q 'Authentication Status: true' && return 0
  ctl user add "root:$PASS" >/dev/null && ctl user grant-role root root >/dev/null && ctl auth enable >/dev/null
  echo "etcd: authentication enabled (user root)"
}

etcd_ok() { curl -fsS -m 2 "${tls_flags[@]}" "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"'; }
dtm_ok() { curl -fsS -m 2 "$DTM_HTTP/api/ping" 2>/dev/null | grep -q pong; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

# etcdctl against the etcd dtm registers in (with the account when STACK_ETCD_AUTH).
reg_ctl() {
  if [ -n "$AUTH" ]; then etcdctl --endpoints="$REG_ETCD" --command-timeout=2s --user "root:$PASS" "$@"
  else etcdctl --endpoints="$REG_ETCD" --command-timeout=2s "$@"; fi
}
# dtm's registrations as "key value" lines. Read whole before testing: a pipe into `grep -q` would stop reading
# early, etcdctl would die of SIGPIPE, and pipefail would turn a found key into a failure.
registrations() {
  local out
  out="$(reg_ctl --dial-timeout=2s get --prefix "$REG_KEY/" 2>/dev/null)" || return 1
  printf '%s\n' "$out" | paste -d' ' - - | grep -v '^ *$' || true
}
# Registered: a key under <key>/ holds dtm's EndPoint (stale ones were removed before this dtm started).
dtm_registered() {
  [ -z "$DTM_TARGET" ] && return 0
  local regs
  regs="$(registrations)" || return 1
  [ -n "$(awk -v ep="$DTM_ENDPOINT" '$2 == ep' <<<"$regs")" ]
}
# Removes registrations of dtm's EndPoint left by a dtm that is gone: revokes their leases (the key's last segment
# is the lease id in decimal, the go-zero way), or deletes the key when the lease is already gone.
drop_stale_registrations() {
  [ -n "$DTM_TARGET" ] || return 0
  local regs key value lease n=0
  regs="$(registrations)" || return 0
  while read -r key value; do
    [ -n "$key" ] && [ "$value" = "$DTM_ENDPOINT" ] || continue
    lease="${key##*/}"
    if [[ "$lease" =~ ^[0-9]+$ ]] &&
      reg_ctl lease revoke "$(printf '%x' "$lease")" >/dev/null 2>&1; then
      n=$((n + 1))
    elif reg_ctl del "$key" >/dev/null 2>&1; then
      n=$((n + 1))
    fi
  done <<<"$regs"
  if [ "$n" -gt 0 ]; then echo "stack: removed $n registration(s) of a dtm that is gone from $REG_KEY/ in etcd"; fi
}

wait_for() { wait_up "stack: $1" "$(cat "$state/$1.pid")" "$WAIT_S" "$3" "$2"; } # name check-fn log

run_etcd() {
  [ -n "$ETCD_BIN" ] || { echo "stack: etcd is not installed; run: npm run setup" >&2; exit 1; }
  mkdir -p "$ETCD_DATA"
  local sec=()
  if [ -n "$TLS" ]; then
    [ -f "$CERTS/ca.pem" ] || bash "$root/libs/testkit/scripts/etcd-certs.sh" "$CERTS"
    sec=(--cert-file "$CERTS/server.pem" --key-file "$CERTS/server-key.pem" --trusted-ca-file "$CERTS/ca.pem" --client-cert-auth)
  fi
  exec "$ETCD_BIN" --name dtm-gozero-ts --data-dir "$ETCD_DATA" "${sec[@]}" \
    --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "dtm-gozero-ts=http://127.0.0.1:$ETCD_PEER_PORT"
}

run_dtm() {
  [ -x "$DTM_BIN" ] || { echo "stack: dtm is not built at $DTM_BIN; run: npm run setup" >&2; exit 1; }
  mkdir -p "$state/dtm"
  cd "$state/dtm" # boltdb keeps dtm.bolt in the working directory
  # Nothing answers for this dtm yet: registrations of its EndPoint are a dead dtm's, which clients must not pick.
  if etcd_ok; then drop_stale_registrations; fi
  exec "$DTM_BIN" -c "$(dtm_conf)"
}

wait_ready() {
  local deadline=$((SECONDS + WAIT_S))
  while ((SECONDS < deadline)); do
    if etcd_ok && dtm_ok && dtm_registered; then return 0; fi
    sleep 0.25
  done
  if [ -n "$DTM_TARGET" ]; then
    echo "stack: etcd and dtm were not both up (and dtm registered under $REG_KEY/) within ${WAIT_S}s" >&2
  else
    echo "stack: etcd and dtm were not both up within ${WAIT_S}s" >&2
  fi
  return 1
}

started=()
# On a failed `up`, stop what this run started: nothing is left half up.
undo() {
  local s
  for s in "${started[@]}"; do stop_one "$s" >&2; done
}

# Starts one server in a session of its own (the terminal's Ctrl-C does not reach it; `down` stops it by pid).
starting=""
last_bg=""
spawn() { # name
  starting="$1"
  last_bg="${!:-}"
  setsid bash "$0" "$1" >"$state/$1.log" 2>&1 &
  echo $! >"$state/$1.pid"
  started+=("$1")
  starting=""
}
# Ctrl-C or SIGTERM during `up` (bash runs this between two commands): stop what this up started, the server
# spawned a moment ago included even when its pid file is not written yet, say so, and exit 130. Further signals
# are ignored until that is done, so a second Ctrl-C cannot leave a server behind.
interrupted() {
  trap '' INT TERM
  if [ -n "$starting" ] && [ "${!:-}" != "$last_bg" ] && [[ " ${started[*]} " != *" $starting "* ]]; then
    echo $! >"$state/$starting.pid"
    started+=("$starting")
  fi
  echo "stack: interrupted; stopping what this up started${started[*]:+ (${started[*]})}" >&2
  undo
  exit 130
}

up() {
  trap interrupted INT TERM
  mkdir -p "$ETCD_DATA" "$state/dtm"
  if etcd_ok; then
    echo "etcd: already answering at $ETCD_URL (left as it is)"
  else
    [ -n "$ETCD_BIN" ] || { echo "stack: etcd is not installed; run: npm run setup" >&2; exit 1; }
    if port_busy "$ETCD_PORT"; then echo "stack: port $ETCD_PORT is taken by something that is not a healthy etcd; free it and retry" >&2; exit 1; fi
    spawn etcd
    wait_for etcd etcd_ok "$state/etcd.log" || { undo; exit 1; }
    echo "etcd: started (pid $(cat "$state/etcd.pid")) at $ETCD_URL, log $state/etcd.log"
  fi
  enable_auth
  if [ -n "$TLS" ]; then echo "etcd: TLS; Etcd.CertFile $CERTS/client.pem, CertKeyFile $CERTS/client-key.pem, CACertFile $CERTS/ca.pem"; fi
  if dtm_ok; then
    echo "dtm: already answering at $DTM_HTTP (left as it is)"
  else
    [ -x "$DTM_BIN" ] || { echo "stack: dtm is not built at $DTM_BIN; run: npm run setup" >&2; undo; exit 1; }
    for p in "$DTM_HTTP_PORT" "$DTM_GRPC_PORT"; do
      if port_busy "$p"; then echo "stack: port $p is taken by something that is not dtm (or by a dtm that does not answer); free it and retry" >&2; undo; exit 1; fi
    done
    spawn dtm
    wait_for dtm dtm_ok "$state/dtm.log" || { undo; exit 1; }
    echo "dtm: started (pid $(cat "$state/dtm.pid")) grpc localhost:$DTM_GRPC_PORT, http $DTM_HTTP, log $state/dtm.log"
  fi
  if [ -n "$TLS" ]; then
    echo "stack: up — dtm's go-zero driver has no etcd TLS setting, so dtm is not registered; use npm run app -- --dtm localhost:$DTM_GRPC_PORT"
    return 0
  fi
  if [ -z "$DTM_TARGET" ]; then
    echo "stack: up — etcd 127.0.0.1:$ETCD_PORT, dtm grpc localhost:$DTM_GRPC_PORT (MicroService.Target is empty: not registered, dial it directly, e.g. npm run app -- --dtm localhost:$DTM_GRPC_PORT), dtm http $DTM_HTTP"
    return 0
  fi
  # dtm registers itself ~100 ms after listening; wait (10 s at most) so that clients resolving its key find it.
  local deadline=$((SECONDS + 10)) registered=0
  while ((SECONDS < deadline)); do
    if dtm_registered; then registered=1; break; fi
    sleep 0.25
  done
  if [ "$registered" = 0 ]; then
    echo "stack: dtm answers but has not registered $DTM_ENDPOINT under $REG_KEY/ in the etcd at $REG_ETCD; check MicroService in $DTM_CONF and $state/dtm.log" >&2
    undo
    exit 1
  fi
  echo "stack: up — etcd 127.0.0.1:$ETCD_PORT, dtm grpc localhost:$DTM_GRPC_PORT (registered as ${DTM_TARGET%%\?*}), dtm http $DTM_HTTP"
}

stop_one() { # name
  local f="$state/$1.pid"
  [ -f "$f" ] || return 0
  if stop_pid "$(cat "$f")" TERM 10; then echo "$1: stopped (pid $(cat "$f"))"; fi
  rm -f "$f"
}

down() { # [etcd|dtm]... (default both)
  local which=("$@") ours=0
  [ "${#which[@]}" -gt 0 ] || which=(dtm etcd)
  if [[ " ${which[*]} " == *" dtm "* ]]; then
    alive dtm && ours=1
    stop_one dtm
    # dtm leaves its lease to expire; take its key out now, while etcd still runs, so keys do not pile up.
    if [ "$ours" = 1 ] && etcd_ok; then drop_stale_registrations; fi
  fi
  if [[ " ${which[*]} " == *" etcd "* ]]; then stop_one etcd; fi
  echo "stack: down"
}

status() {
  if etcd_ok; then echo "etcd: up at $ETCD_URL$(alive etcd && echo " (ours, pid $(cat "$state/etcd.pid"))")"; else echo "etcd: down"; fi
  if dtm_ok; then echo "dtm: up at $DTM_HTTP$(alive dtm && echo " (ours, pid $(cat "$state/dtm.pid"))")"; else echo "dtm: down"; fi
}

case "${1:-}" in
  up) up ;;
  down) shift; down "$@" ;;
  status) status ;;
  etcd) run_etcd ;;
  dtm) run_dtm ;;
  wait) wait_ready ;;
  *) echo "usage: stack.sh up|down|status|etcd|dtm|wait" >&2; exit 2 ;;
esac
