# FTI Platform — every task a developer or CI runs. `make help` lists them.
SHELL := /bin/bash
export ONNXRUNTIME_NODE_INSTALL := skip
TSX := node --import tsx

.PHONY: help setup generate build lint test test-only demo bench up down status clean

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## install Debian and npm packages, start Postgres and NATS if down, build
	@bash scripts/setup.sh

generate: ## regenerate TypeScript from proto/ (buf generate)
	npx buf generate

build: ## compile every library and service (tsc -b, project references)
	npx tsc -b

lint: ## buf lint, buf breaking against main, generated code up to date, type-check
	npx buf lint
	@if git rev-parse --verify -q main >/dev/null; then npx buf breaking --against '.git#branch=main'; fi
	@bash scripts/check-generated.sh
	npx tsc -b

test: setup lint test-only ## everything CI checks, on a fresh machine too

test-only: ## the test suite against the real Postgres, NATS, Cassandra, DuckDB
	@mkdir -p .tmp
	@status=0; npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json || status=$$?; \
	  if [ -f .tmp/vitest.json ]; then node scripts/test-summary.mjs .tmp/vitest.json; fi; exit $$status

demo: setup up ## set up, start every service, run the fraud example end to end, print its summary
	npx tsc -b examples/fraud
	node examples/fraud/dist/main.js
	@echo "The services are still running: 'make status' checks them, 'make down' stops them."
	@echo "Run the example again with 'node examples/fraud/dist/main.js' (FRAUD_SIZE=small|default|large; a fresh project each run)."

bench: ## run every benchmark (each prints its baseline beside it; several minutes)
	@FTI_BENCH=1 bash scripts/setup.sh
	npx tsc -b bench
	node bench/dist/rpc/main.js
	@for b in record-batch registry online-store offline-store ingestion offline-query serving training monitoring transforms; do \
	  echo; echo "== bench/$$b"; npx tsx --conditions=source bench/$$b/main.ts || exit 1; done
	@echo; echo "== bench/online-store/plan-cache"; npx tsx --conditions=source bench/online-store/plan-cache.ts
	@echo; echo "== bench/server/decode"; npx tsx --conditions=source bench/server/decode.ts
	@echo; echo "== bench/server/encode"; npx tsx --conditions=source bench/server/encode.ts
	@echo; echo "== bench/server/in-flight-gc"; npx tsx --conditions=source bench/server/in-flight-gc.ts

up: build ## start every built service in the background (.run/<service>.log)
	@$(TSX) scripts/services.ts up

down: ## stop the services started by make up (SIGTERM, drained)
	@$(TSX) scripts/services.ts down

status: ## health of every service
	@$(TSX) scripts/services.ts status

clean: ## remove build output
	npx tsc -b --clean
	rm -rf .run .tmp
