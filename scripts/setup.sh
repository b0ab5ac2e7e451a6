#!/usr/bin/env bash
# Everything a fresh machine needs before the demo or the tests: Debian packages,
# the local Postgres and NATS JetStream (started if not running), npm packages,
# and a build. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

# --- Debian packages -------------------------------------------------------
need=()
/usr/bin/python3 -c "import grpc, grpc_tools" 2>/dev/null || need+=(python3-grpcio python3-grpc-tools)
/usr/bin/python3 -c "import onnx" 2>/dev/null || need+=(python3-onnx)
/usr/bin/python3 -c "import sklearn" 2>/dev/null || need+=(python3-sklearn)
/usr/bin/python3 -c "import pandas" 2>/dev/null || need+=(python3-pandas)   # bench/offline-query's baseline
command -v h2load >/dev/null || need+=(nghttp2-client)
# bench/serving's load generator (Go); only for `make bench` (FTI_BENCH=1), not the tests.
if [ "${FTI_BENCH:-}" = 1 ]; then
  command -v go >/dev/null || need+=(golang-go)
  [ -d /usr/share/gocode/src/golang.org/x/net/http2 ] || need+=(golang-golang-x-net-dev)
fi
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v pg_isready >/dev/null || need+=(postgresql)
[ -x /usr/sbin/nats-server ] || command -v nats-server >/dev/null || need+=(nats-server)
if [ ${#need[@]} -gt 0 ]; then
  say "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- Postgres ---------------------------------------------------------------
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 >/dev/null || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }

# --- NATS with JetStream ----------------------------------------------------
nats_up() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }
if ! nats_up; then
  say "starting NATS with JetStream"
  NATS_BIN=$(command -v nats-server || echo /usr/sbin/nats-server)
  $SUDO mkdir -p /var/lib/nats-server
  $SUDO start-stop-daemon --start --oknodo --background --exec "$NATS_BIN" -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  for _ in $(seq 1 30); do nats_up && break; sleep 0.5; done
fi
nats_up || { echo "NATS is not reachable on 127.0.0.1:4222" >&2; exit 1; }

# --- npm packages and build ---------------------------------------------------
# onnxruntime-node's install script would try a download; its CPU build ships in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  # `npm install`, not `npm ci`: it keeps to the lockfile too, and tolerates the
  # other platforms' optional binaries (buf, esbuild) that this registry does not carry.
  npm install --no-audit --no-fund
fi
say "building"
npx tsc -b
