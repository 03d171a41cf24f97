#!/usr/bin/env bash
# The whole test suite, in one command, on a fresh machine: installs what is missing (Node 24 when the machine's is
# older, npm ci, etcd, dtm, MariaDB/Postgres/Redis via npm run setup), then runs `npm test` (typecheck, lint, unit and
# integration tests; the integration tests start their own etcd, dtm and databases on free ports and stop them).
# Arguments go to vitest, e.g. `bash scripts/test.sh test/readme-zh.test.ts`; `--install-only` stops after
# installing (CI adds Docker in between). Exit status: npm test's.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
say() { printf '\n==> %s\n' "$*"; }

say "installing what is missing (Node >= 22.12, npm ci, etcd, dtm, databases)"
# shellcheck source=ensure-node.sh
source scripts/ensure-node.sh
node --version
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/setup.sh
if [ "${1:-}" = --install-only ]; then exit 0; fi

say "npm test $*"
npm test -- "$@"
