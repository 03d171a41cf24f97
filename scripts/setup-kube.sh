#!/usr/bin/env bash
# kube-apiserver for the Kubernetes tests (k8s:// resolver, dtm's go-zero driver, deploy/k8s manifests), built from
# k8s.io/kubernetes through the Go module proxy by the module in infra/kube-apiserver (called by scripts/setup.sh).
# Cached: the binary is kept under ~/.cache/dtm-gozero-ts and copied into .cache/bin; skipped when present.
# First build: 31 minutes measured on a shared, busy 2-core machine (module downloads included).
# KUBE_SKIP=1 skips it (the Kubernetes tests then fail, naming this script).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
KUBE_VERSION="v1.37.2"
KUBE_BIN="$root/.cache/bin/kube-apiserver"
USER_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/dtm-gozero-ts/kube-apiserver-$KUBE_VERSION"

step() { printf '\n==> %s\n' "$*"; }
# The build stamps its version (component-base's gitVersion, which `--version` prints); an unstamped binary says v0.0.0.
is_ours() { [ -x "$1" ] && [ "$("$1" --version 2>/dev/null)" = "Kubernetes $KUBE_VERSION" ]; }

[ "${KUBE_SKIP:-}" = 1 ] && {
  step "kube-apiserver: skipped (KUBE_SKIP=1)"
  exit 0
}
if ! is_ours "$KUBE_BIN" && is_ours "$USER_CACHE"; then
  mkdir -p "$(dirname "$KUBE_BIN")" && cp "$USER_CACHE" "$KUBE_BIN"
fi
if is_ours "$KUBE_BIN"; then
  step "kube-apiserver: $KUBE_BIN already built (delete it and $USER_CACHE to rebuild)"
  exit 0
fi
command -v go >/dev/null 2>&1 || {
  echo "setup-kube: Go is required to build kube-apiserver; install Go >= 1.26 and re-run" >&2
  exit 1
}
command -v openssl >/dev/null 2>&1 || echo "setup-kube: warning: openssl is missing; the testkit needs it to make the API server's certificates" >&2
step "kube-apiserver: building k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION (first time: many minutes, 31 on a busy 2-core machine)"
cd "$root/infra/kube-apiserver"
minor="${KUBE_VERSION#v1.}" && minor="${minor%%.*}"
v=k8s.io/component-base/version
ldflags="-s -w -X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
mkdir -p "$(dirname "$KUBE_BIN")"
GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$KUBE_BIN.tmp" k8s.io/kubernetes/cmd/kube-apiserver
mv "$KUBE_BIN.tmp" "$KUBE_BIN"
is_ours "$KUBE_BIN" || {
  echo "setup-kube: $KUBE_BIN does not say it is $KUBE_VERSION ($("$KUBE_BIN" --version 2>&1 | head -1))" >&2
  exit 1
}
mkdir -p "$(dirname "$USER_CACHE")" && cp "$KUBE_BIN" "$USER_CACHE" || true
"$KUBE_BIN" --version
