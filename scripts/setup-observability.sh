#!/usr/bin/env bash
# The observability servers the tracing and metrics tests (and `npm start -- --observe`) run, without Docker:
#   Jaeger v1.75.0 (its v2 all-in-one `cmd/jaeger`, OTLP in, query API + UI out), built through the Go module proxy
#   from the tool dependency in infra/jaeger/go.mod into ~/.cache/dtm-gozero-ts/ (skipped when present);
#   Prometheus, Debian's package (skipped when installed).
# Prints the Jaeger binary's path on its last line.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
JAEGER_VERSION="v1.75.0"
# Jaeger tags every release twice on one commit, v1.N and v2.(N-63); the module proxy serves the v1 tag, the official
# image and `jaeger version` carry the v2 one (infra/rebuild/jaeger checks it).
JAEGER_RELEASE="v2.12.0"
USER_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/dtm-gozero-ts"
JAEGER_BIN="$USER_CACHE/jaeger-$JAEGER_VERSION"

step() { printf '\n==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if command -v prometheus >/dev/null 2>&1; then
  step "prometheus: $(prometheus --version 2>&1 | sed -n 1p) already installed"
else
  step "prometheus: installing Debian's package"
  as_root apt-get update -qq
  # The package's service is not started here (no init in a container; policy-rc.d may deny it): tests run their own.
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  prometheus --version 2>&1 | sed -n 1p >&2
fi

jaeger_ok() { [ -x "$1" ] && "$1" version 2>/dev/null | grep -qF "\"gitVersion\":\"$JAEGER_RELEASE\""; }
if jaeger_ok "$JAEGER_BIN"; then
  step "jaeger: $JAEGER_BIN already built (delete it to rebuild)"
else
  command -v go >/dev/null 2>&1 || { echo "setup: Go is required to build Jaeger; install Go >= 1.24 and re-run" >&2; exit 1; }
  step "jaeger: building github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION (first time: several minutes)"
  mkdir -p "$USER_CACHE"
  # infra/jaeger/go.mod pins the version as a Go tool dependency (go get -tool …@v1.75.0), go.sum its checksums.
  # The release version is stamped in as Jaeger's own release build does (a binary built before that is rebuilt).
  (cd "$root/infra/jaeger" && go build -ldflags "-X github.com/jaegertracing/jaeger/internal/version.latestVersion=$JAEGER_RELEASE" \
    -o "$JAEGER_BIN.tmp" github.com/jaegertracing/jaeger/cmd/jaeger)
  mv "$JAEGER_BIN.tmp" "$JAEGER_BIN"
fi
echo "$JAEGER_BIN"
