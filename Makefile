# mcpfiber — `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
STATICCHECK_VERSION := v0.8.2
# `make fuzz FUZZTIME=30s` fuzzes each target for that long.
FUZZTIME ?= 10s
ADDR ?= 127.0.0.1:8080

.PHONY: help run build test vet fmt-check lint bench fuzz clean conformance conformance-cluster debs

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  /' -e 's|\$$(ADDR)|$(ADDR)|g' -e 's|\$$(FUZZTIME)|$(FUZZTIME)|g'

## run: build bin/mcpfiber and start it on $(ADDR) (endpoint /mcp); make waits for it and passes on SIGINT/SIGTERM
# exec: the server replaces the recipe's shell, so it is the process make
# waits for and signals (go run would leave it orphaned, holding the port).
run: build
	exec bin/mcpfiber --addr $(ADDR)

## build: build bin/mcpfiber
build:
	$(GO) build -o bin/mcpfiber .

## test: everything CI runs: formatting, vet, staticcheck, the conformance suites (one node, and three behind nginx), go test -race, fuzz seeds, zero-alloc tests, benchmarks once
test: debs fmt-check vet lint conformance conformance-cluster
	$(GO) test -race -shuffle=on -count=1 ./...
	$(GO) test -count=1 -run 'Allocs' ./...
	$(GO) test -count=1 -run '^$$' -bench . -benchtime=1x ./...
	cd bench && $(GO) vet ./... && $(GO) test -run '^$$' -bench . -benchtime=1x ./...

## debs: install the Debian packages the tests run (redis-server, redis-tools, nginx) with apt-get when missing
DEB_COMMANDS := redis-server:redis-server redis-cli:redis-tools nginx:nginx
debs:
	@missing=; for pair in $(DEB_COMMANDS); do PATH=$$PATH:/usr/sbin:/sbin command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "installing$$missing (apt-get)"; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

## conformance: the official MCP conformance suite, 0.1.16 and 0.2.0-alpha.12 (server --suite all), against the binary with --catalog conformance; Node >= 22 and the suite are installed into .tools/ when missing
conformance:
	./conformance/run.sh

## conformance-cluster: the same suites against 3 nodes on one Redis behind nginx (round robin: consecutive requests of a session on different nodes)
conformance-cluster: debs
	NODES=3 ./conformance/run.sh

## vet: go vet
vet:
	$(GO) vet ./...

## fmt-check: fail if gofmt would change a file
fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## lint: staticcheck (pinned)
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## bench: the in-process benchmarks (404 fast path, sessions map; allocation counts), then mcpfiber vs the Go SDK and mcp-go side by side (writes bench/RESULTS.md), then the pinned figures of bench-pinned (writes bench/RESULTS-pinned.txt and results-pinned/latest.jsonl)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=5 ./transport ./sessions
	cd bench && $(GO) run ./cmd/report
	cd bench && $(GO) run ./cmd/pinned $(PINNED_ARGS) -json results-pinned/latest.jsonl | tee RESULTS-pinned.txt

.PHONY: bench-pinned
## bench-pinned: each server in a child process on CPU 0, load on CPU 1: ops/s and server CPU per op from /proc, vs the floors and the Go SDK (#16); PINNED_ARGS='-passes 1 -storm 1000' for a short run; figures go in bench/RESULTS.md by hand
PINNED_ARGS ?= -passes 5 -storm 10000 -idle 20000 -streams 5000
bench-pinned:
	cd bench && $(GO) run ./cmd/pinned $(PINNED_ARGS)

.PHONY: bench-store
## bench-store: the session store in Redis against in memory (#10), 20 passes alternating the order; writes bench/RESULTS-store.txt (figures go in bench/RESULTS.md by hand)
bench-store:
	cd bench && set -o pipefail && ./store_bench.sh | tee RESULTS-store.txt

.PHONY: loadtest
## loadtest: load-test the server at $(ADDR): make loadtest SCENARIO=storm ARGS='--clients 1000' (go run ./loadtest -h lists all)
loadtest:
	$(GO) run ./loadtest --url http://$(ADDR)/mcp $(or $(SCENARIO),miss) $(ARGS)

## fuzz: fuzz every parser that sees client bytes, $(FUZZTIME) each
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./jsonrpc
	$(GO) test -run '^$$' -fuzz '^FuzzAppendString$$' -fuzztime $(FUZZTIME) ./jsonrpc
	$(GO) test -run '^$$' -fuzz '^FuzzParseEventID$$' -fuzztime $(FUZZTIME) ./sessions
	$(GO) test -run '^$$' -fuzz '^FuzzValidID$$' -fuzztime $(FUZZTIME) ./sessions
	$(GO) test -run '^$$' -fuzz '^FuzzValidID$$' -fuzztime $(FUZZTIME) ./redisstore
	$(GO) test -run '^$$' -fuzz '^FuzzParseAccept$$' -fuzztime $(FUZZTIME) ./transport
	$(GO) test -run '^$$' -fuzz '^FuzzPOST$$' -fuzztime $(FUZZTIME) ./transport
	$(GO) test -run '^$$' -fuzz '^FuzzScanTokens$$' -fuzztime $(FUZZTIME) ./transport
	$(GO) test -run '^$$' -fuzz '^FuzzRawRequest$$' -fuzztime $(FUZZTIME) ./transport
	$(GO) test -run '^$$' -fuzz '^FuzzParseRequestMeta$$' -fuzztime $(FUZZTIME) ./mcp
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeHeaderValue$$' -fuzztime $(FUZZTIME) ./mcp
	$(GO) test -run '^$$' -fuzz '^FuzzOpenState$$' -fuzztime $(FUZZTIME) ./mcp

## clean: remove build outputs and installed tools
clean:
	rm -rf bin .tools
