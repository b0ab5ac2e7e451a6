#!/usr/bin/env bash
# Fails when the committed generated code differs from a fresh `buf generate`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx buf generate -o "$out"
if ! diff -r "$out/libs/proto/src/gen" libs/proto/src/gen >/dev/null; then
  echo "libs/proto/src/gen is stale: run 'make generate' and commit the result" >&2
  diff -r "$out/libs/proto/src/gen" libs/proto/src/gen | head -20 >&2
  exit 1
fi
echo "generated code is up to date"
