#!/usr/bin/env bash
# The test suite: type check (server and dashboard), the dashboard's component tests (vitest, jsdom),
# then every *.test.ts under src/ and test/ with node's test runner (the dashboard's end-to-end test
# in test/e2e/ among them).
# (Node 20's `node --test` neither expands globs nor finds .ts files by itself: list them explicitly.)
set -euo pipefail
cd "$(dirname "$0")/.."
npx --no-install tsc --noEmit -p tsconfig.json
npx --no-install tsc --noEmit -p web/tsconfig.json
npx --no-install vitest run --root web --reporter=dot
mapfile -t files < <(find src test -name '*.test.ts' | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
exec node --import tsx --test --test-reporter=spec "${files[@]}"
