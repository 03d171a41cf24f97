#!/usr/bin/env bash
# Installs the real servers the project runs against, without Docker:
#   etcd  — Debian package etcd-server (etcd 3.4), plus etcd-client for etcdctl;
#   dtm   — v1.19.0 built from the Go module proxy into .cache/bin/dtm (git-ignored; skipped when present);
#   the Go interop binaries (interop/) into .cache/bin (skipped when up to date);
#   kube-apiserver v1.37.2 for the Kubernetes tests (scripts/setup-kube.sh; cached; the first build takes long: 31 min on a busy 2-core machine).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
DTM_VERSION="v1.19.0"
DTM_BIN="$root/.cache/bin/dtm"
# A per-user copy lets a fresh clone on the same machine skip the build.
USER_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/dtm-gozero-ts/dtm-$DTM_VERSION"

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if command -v etcd >/dev/null 2>&1 && command -v etcdctl >/dev/null 2>&1; then
  step "etcd: $(etcd --version | head -1) already installed"
else
  step "etcd: installing Debian packages etcd-server etcd-client"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq etcd-server etcd-client >/dev/null
  etcd --version | sed -n 1p
fi

# A binary counts only when it says it is $DTM_VERSION (builds from before the version was stamped say v0.0.0-dev).
dtm_is_ours() { [ -x "$1" ] && [ "$("$1" -v 2>/dev/null | head -1)" = "dtm version: $DTM_VERSION" ]; }
if ! dtm_is_ours "$DTM_BIN" && dtm_is_ours "$USER_CACHE"; then
  mkdir -p "$(dirname "$DTM_BIN")" && cp "$USER_CACHE" "$DTM_BIN"
fi
if dtm_is_ours "$DTM_BIN"; then
  step "dtm: $DTM_BIN already built (delete it to rebuild)"
else
  command -v go >/dev/null 2>&1 || { echo "setup: Go is required to build dtm; install Go >= 1.20 and re-run" >&2; exit 1; }
  step "dtm: building github.com/dtm-labs/dtm@$DTM_VERSION (first time: a few minutes)"
  # `go install github.com/dtm-labs/dtm@v1.19.0` would be the one-liner, but it asks the module proxy for dtm's
  # version list (to check deprecation), which the proxy refuses here (403); resolving the exact version inside a
  # throw-away module asks only for that version. -checklinkname=0: dtm's old dependencies use go:linkname in ways
  # Go >= 1.23's linker rejects by default. -X main.Version: dtm's release builds stamp their version this way
  # (main.go's `Version`, "set by -ldflags"); without it `dtm -v` says v0.0.0-dev.
  build="$root/.cache/dtm-build"
  mkdir -p "$build" "$(dirname "$DTM_BIN")"
  cd "$build"
  [ -f go.mod ] || go mod init dtm-build >/dev/null 2>&1
  go get "github.com/dtm-labs/dtm@$DTM_VERSION"
  go build -ldflags="-checklinkname=0 -X main.Version=$DTM_VERSION" -o "$DTM_BIN" github.com/dtm-labs/dtm
  cd "$root"
  mkdir -p "$(dirname "$USER_CACHE")" && cp "$DTM_BIN" "$USER_CACHE" || true
fi
dtm_is_ours "$DTM_BIN" || { echo "setup: $DTM_BIN does not say it is dtm $DTM_VERSION ($("$DTM_BIN" -v 2>&1 | head -1))" >&2; exit 1; }
"$DTM_BIN" -v 2>/dev/null | sed -n 1p
# dtm's admin UI embedded into the binary, as dtm's release build does (a separate script: scripts/dtm-admin.sh).
bash "$root/scripts/dtm-admin.sh"

# The Go twins and the go-zero client of the interop tests and the benchmark (each build.sh is a no-op when its
# binaries are newer than their sources).
step "Go interop binaries (interop/gozero: go-trans, go-app, go-ceiling, and go-trans-v110, go-app-v110 on go-zero v1.10; interop/go-client)"
bash "$root/interop/gozero/build.sh"
bash "$root/interop/go-client/build.sh"
# Jaeger (built once into ~/.cache/dtm-gozero-ts) and Debian's prometheus: the tracing and metrics tests' servers.
bash "$root/scripts/setup-observability.sh" >/dev/null
bash "$root/scripts/setup-kube.sh"
step "setup done: etcd $(command -v etcd), dtm $DTM_BIN"

# Databases for the barrier and XA tests (MariaDB, PostgreSQL, Redis), when that script exists.
if [ -f "$root/scripts/setup-db.sh" ] && [ "${SETUP_SKIP_DB:-}" != 1 ]; then
  bash "$root/scripts/setup-db.sh"
fi
