#!/usr/bin/env bash
# Builds the Go go-zero interop client into <repo>/.cache/bin/go-trans-client (git-ignored); no-op when up to date
# (its sources, and the twins' shared package interop/gozero/twin).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; out="$here/../../.cache/bin/go-trans-client"
if [[ -x "$out" && -z "$(find "$here" "$here/../gozero/twin" -maxdepth 1 \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) -newer "$out")" ]]; then echo "up to date: $out"; exit 0; fi
mkdir -p "$(dirname "$out")" && cd "$here" && GOFLAGS=-mod=mod go build -o "$out" . && echo "built: $out"
