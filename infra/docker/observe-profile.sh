#!/bin/sh
# Entrypoint of the trans and app images: runs the command unchanged, except under `docker compose --profile observe`,
# whose preflight sets FLAG in the volume docker-compose.yml mounts on /home/node (the default preflight clears it on
# every up): then the config after -f, etc/NAME.yaml, becomes etc/NAME-observe.yaml (go-zero's Telemetry to the
# profile's Jaeger, trans's DevServer for its Prometheus). Outside compose nothing is mounted and nothing changes.
set -eu
FLAG="${OBSERVE_PROFILE_FLAG:-/home/node/observe}" # the variable: for test/compose.test.ts
if [ -e "$FLAG" ]; then
  after_f=
  for arg; do
    shift
    if [ -n "$after_f" ]; then
      arg="${arg%.yaml}-observe.yaml"
      [ -f "$arg" ] || { echo "observe-profile: $arg is missing from the image (rebuild it: docker compose build)" >&2; exit 1; }
      echo "observe-profile: the observe profile is on: -f $arg" >&2
    fi
    after_f=
    [ "$arg" = -f ] && after_f=1
    set -- "$@" "$arg"
  done
fi
exec "$@"
