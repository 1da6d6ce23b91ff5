#!/usr/bin/env bash
# conformance/run.sh — run the official MCP conformance suite against the
# mcpfiber binary (`make conformance`).
#
# What it does, in order:
#   1. finds a Node >= 22 (the suite imports fs.globSync); when the
#      machine's node is older it installs the npm package
#      node-linux-<arch>@22 into .tools/node22 once and puts it first on PATH;
#   2. installs @modelcontextprotocol/conformance at each pinned version
#      (conformance/npm/suite-<version>/package-lock.json) into
#      .tools/conformance/suite-<version> with `npm ci`, once per lock file,
#      and the TypeScript SDK for the interop test (conformance/npm/ts-sdk);
#   3. builds the binary and starts it with --catalog conformance on a free
#      loopback port (127.0.0.1:0; the URL is read from its log);
#   4. runs `server --suite all` of each version against the endpoint,
#      writing results under .tools/conformance/results/<version>;
#   5. prints pass/fail counts per scenario (conformance/summarize.mjs) and
#      fails on any failing scenario not listed, with a reason, in
#      conformance/baseline.txt, and on any listed scenario that passes.
#
# Environment: SUITES (default "0.1.16 0.2.0-alpha.12"), SCENARIO (run one
# scenario only), KEEP_SERVER=1 (leave the server log in place on success).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$ROOT/.tools
WORK=$TOOLS/conformance
SUITES=${SUITES:-"0.1.16 0.2.0-alpha.12"}
SCENARIO=${SCENARIO:-}
NPM_FLAGS=(--no-audit --no-fund --loglevel=error --prefer-offline)

mkdir -p "$WORK"

# --- 1. Node >= 22 -----------------------------------------------------------
node_major() { node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }
if ! command -v node >/dev/null || [ "$(node_major)" -lt 22 ]; then
	case $(uname -m) in
	x86_64) arch=x64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) echo "conformance: no Node >= 22 and no node-linux package for $(uname -m)" >&2; exit 1 ;;
	esac
	NODE_DIR=$TOOLS/node22/node_modules/node-linux-$arch
	if [ ! -x "$NODE_DIR/bin/node" ]; then
		echo "conformance: installing node-linux-$arch@22 into .tools/node22"
		npm install --prefix "$TOOLS/node22" "${NPM_FLAGS[@]}" "node-linux-$arch@22" >/dev/null
	fi
	export PATH=$NODE_DIR/bin:$PATH
fi
if [ "$(node_major)" -lt 22 ]; then
	echo "conformance: node $(node --version) is older than 22" >&2
	exit 1
fi

# --- 2. the suites and the TypeScript SDK, pinned by lock file ---------------
# install_locked NAME: npm ci conformance/npm/NAME into .tools/conformance/NAME,
# once per lock file.
install_locked() {
	local src=$ROOT/conformance/npm/$1 dst=$WORK/$1
	if [ ! -f "$src/package-lock.json" ]; then
		echo "conformance: no pinned lock file $src/package-lock.json" >&2
		exit 1
	fi
	if ! cmp -s "$src/package-lock.json" "$dst/.installed-lock" 2>/dev/null ||
		[ ! -d "$dst/node_modules" ]; then
		echo "conformance: installing $(sed -nE 's/.*"(@modelcontextprotocol\/[a-z]+)": "([^"]+)".*/\1@\2/p' "$src/package.json") into .tools/conformance/$1"
		rm -rf "$dst"
		mkdir -p "$dst"
		cp "$src/package.json" "$src/package-lock.json" "$dst/"
		(cd "$dst" && npm ci "${NPM_FLAGS[@]}" >/dev/null)
		cp "$src/package-lock.json" "$dst/.installed-lock"
	fi
}
for v in $SUITES; do
	install_locked "suite-$v"
done
# The interop test (conformance/interop_ts_test.go) runs the SDK's client
# with the same Node; it finds both here.
install_locked ts-sdk
command -v node >"$WORK/node-path"

# --- 3. the server -------------------------------------------------------------
BIN=$WORK/mcpfiber
(cd "$ROOT" && go build -o "$BIN" .)
LOG=$WORK/server.log
: >"$LOG"
"$BIN" --addr 127.0.0.1:0 --catalog conformance --log-level info >"$LOG" 2>&1 &
SERVER_PID=$!
cleanup() {
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
}
trap cleanup EXIT

URL=
for _ in $(seq 1 100); do
	URL=$(sed -nE 's/.*mcpfiber listening.* url=([^ ]+).*/\1/p' "$LOG" | head -n1)
	[ -n "$URL" ] && break
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		echo "conformance: the server exited at start:" >&2
		cat "$LOG" >&2
		exit 1
	fi
	sleep 0.1
done
if [ -z "$URL" ]; then
	echo "conformance: the server did not report its URL within 10s:" >&2
	cat "$LOG" >&2
	exit 1
fi
echo "conformance: server at $URL (pid $SERVER_PID), $(date -u +%Y-%m-%dT%H:%M:%SZ)"

# --- 4. the suites ------------------------------------------------------------
status=0
for v in $SUITES; do
	dist=$WORK/suite-$v/node_modules/@modelcontextprotocol/conformance/dist/index.js
	out=$WORK/results/$v
	rm -rf "$out"
	mkdir -p "$out"
	args=(server --url "$URL" -o "$out")
	if [ -n "$SCENARIO" ]; then
		args+=(--scenario "$SCENARIO")
	else
		args+=(--suite all)
	fi
	echo "conformance: suite $v: node .tools/conformance/suite-$v/node_modules/@modelcontextprotocol/conformance/dist/index.js ${args[*]}"
	# The suite's own exit status is ignored: summarize.mjs judges the
	# results against the baseline. A hung suite is stopped after 5 minutes.
	timeout 300 node "$dist" "${args[@]}" >"$out/console.txt" 2>&1 || true
	expected=()
	if [ -z "$SCENARIO" ]; then
		mapfile -t expected < <(node "$dist" list --server | sed -nE 's/^ *- ([a-z0-9-]+).*/\1/p')
	else
		expected=("$SCENARIO")
	fi
	if ! node "$ROOT/conformance/summarize.mjs" "$v" "$out" "$ROOT/conformance/baseline.txt" "${expected[@]}"; then
		status=1
		echo "conformance: suite $v: see $out/console.txt and $out/*/checks.json" >&2
	fi
done

if [ $status -ne 0 ]; then
	echo "conformance: server log (last 40 lines):" >&2
	tail -n 40 "$LOG" >&2
fi
exit $status
