#!/usr/bin/env bash
# Builds the Go twins of apps/trans and apps/app (go-zero v1.4.4, dtm client v1.17.3 + dtmdriver-gozero v0.0.7)
# into <repo>/.cache/bin/go-trans, go-app, go-ceiling and go-wf (git-ignored), and go-trans and go-app once more
# against go-zero v1.10.3 (go110.mod: the newest go-zero the module proxy serves) into go-trans-v110 and go-app-v110.
# pb/ is generated from proto/trans.proto
# with buf (npm) and protoc plugins compiled from this module. No-op when nothing changed since the last build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/.cache/bin"
outs=("$bin/go-trans" "$bin/go-app" "$bin/go-ceiling" "$bin/go-wf" "$bin/go-trans-v110" "$bin/go-app-v110")
stamp="$bin/.go-interop.stamp"
all_built() { for o in "${outs[@]}"; do [[ -x "$o" ]] || return 1; done; }
if [[ -f "$stamp" ]] && all_built &&
  [[ -z "$(find "$here" "$root/proto/trans.proto" \( -name '*.go' -o -name 'go*.mod' -o -name 'go*.sum' -o -name '*.yaml' -o -name '*.proto' \) -not -path "$here/pb/*" -newer "$stamp")" ]]; then
  echo "up to date: ${outs[*]}"
  exit 0
fi
mkdir -p "$bin"
cd "$here"
export GOFLAGS=-mod=mod
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
rm -rf pb && mkdir pb
(cd "$root/proto" && PATH="$bin:$PATH" "$root/node_modules/.bin/buf" generate --template "$here/buf.gen.go.yaml" --path trans.proto -o "$here" .)
go build -o "$bin/go-trans" ./trans
go build -o "$bin/go-app" ./app
go build -o "$bin/go-ceiling" ./ceiling
go build -o "$bin/go-wf" ./wf
# The same twins against go-zero v1.10 (its own module file, so the v1.4 build is untouched).
go build -modfile=go110.mod -o "$bin/go-trans-v110" ./trans
go build -modfile=go110.mod -o "$bin/go-app-v110" ./app
touch "$stamp"
echo "built: ${outs[*]}"
