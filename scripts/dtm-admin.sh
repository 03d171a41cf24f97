#!/usr/bin/env bash
# dtm's admin UI in the dtm binary, as dtm's own release build makes it (called by scripts/setup.sh after the dtm
# build): dtm v1.19.0's module source carries the UI's sources (admin/, a Vite app with its lockfile) and embeds
# admin/dist with go:embed; without a built dist, dtm proxies http://localhost:36789/ to a host on the internet.
# Steps: copy the module source out of the Go module cache, `npm ci` + `npm run build` in admin/ (the lockfile
# names a mirror registry for some packages: those URLs are pointed at the npm registry, same tarballs, same
# integrity hashes; --legacy-peer-deps: the lockfile pairs vite 3 with a plugin whose peer range says vite 4, which
# upstream builds with yarn), then `go build` the copy with the release build's flags into .cache/bin/dtm.
# Cached: the binary is kept under ~/.cache/dtm-gozero-ts; .cache/bin/dtm.admin records which binary has the UI.
# DTM_ADMIN_SKIP=1 keeps the plain binary (the UI then needs the internet, as with `go install`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
DTM_VERSION="v1.19.0"
DTM_BIN="$root/.cache/bin/dtm"
MARK="$DTM_BIN.admin"
USER_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/dtm-gozero-ts/dtm-$DTM_VERSION-admin"

step() { printf '\n==> %s\n' "$*"; }
fail() {
  echo "dtm-admin: $*" >&2
  exit 1
}
sum() { sha256sum "$1" | cut -d' ' -f1; }

[ "${DTM_ADMIN_SKIP:-}" = 1 ] && {
  step "dtm admin UI: skipped (DTM_ADMIN_SKIP=1)"
  exit 0
}
if [ -x "$DTM_BIN" ] && [ -f "$MARK" ] && [ "$(cat "$MARK")" = "$(sum "$DTM_BIN")" ]; then
  step "dtm admin UI: embedded in $DTM_BIN already"
  exit 0
fi
if [ ! -x "$USER_CACHE" ]; then
  command -v go >/dev/null 2>&1 || fail "Go is required to build dtm; install Go >= 1.20 and re-run"
  command -v npm >/dev/null 2>&1 || fail "npm is required to build dtm's admin UI; source scripts/ensure-node.sh first"
  modsrc="$(go env GOMODCACHE)/github.com/dtm-labs/dtm@$DTM_VERSION"
  if [ ! -d "$modsrc/admin" ]; then
    # The module arrives with setup.sh's dtm build; fetch it alone when that build was cached.
    (cd "$root/.cache/dtm-build" 2>/dev/null && go mod download "github.com/dtm-labs/dtm@$DTM_VERSION") ||
      fail "dtm's module source ($modsrc) is missing: run npm run setup"
  fi
  src="$root/.cache/dtm-admin-src"
  step "dtm admin UI: building $modsrc/admin with npm (first time: a few minutes)"
  rm -rf "$src"
  cp -r "$modsrc" "$src"
  chmod -R u+w "$src"
  sed -i 's#https://registry\.npmmirror\.com/#https://registry.npmjs.org/#g' "$src/admin/package-lock.json"
  (cd "$src/admin" && npm ci --legacy-peer-deps --no-audit --no-fund --loglevel=error) || fail "npm ci in dtm's admin/ failed (see above)"
  (cd "$src/admin" && VITE_ADMIN_VERSION="$DTM_VERSION" npm run build --silent) || fail "building dtm's admin UI failed (see above)"
  [ -f "$src/admin/dist/index.html" ] || fail "dtm's admin build wrote no admin/dist/index.html"
  step "dtm admin UI: go build with admin/dist embedded"
  # The release build's flags (static, stripped, version stamped); -checklinkname=0 as in setup.sh.
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build \
    -ldflags "-s -w -X main.Version=$DTM_VERSION -checklinkname=0" -o "$src/dtm-admin" .) ||
    fail "go build of dtm with its admin UI failed (see above)"
  mkdir -p "$(dirname "$USER_CACHE")"
  mv "$src/dtm-admin" "$USER_CACHE"
  rm -rf "$src"
fi
mkdir -p "$(dirname "$DTM_BIN")"
cp "$USER_CACHE" "$DTM_BIN.tmp" && mv "$DTM_BIN.tmp" "$DTM_BIN"
sum "$DTM_BIN" >"$MARK"
step "dtm admin UI: embedded ($DTM_BIN, $("$DTM_BIN" -v 2>/dev/null | head -1))"
