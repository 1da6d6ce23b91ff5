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
#      with NODES=N (N > 1, `make conformance-cluster`: 3) instead a
#      cluster in .tools/conformance/cluster: a redis-server of its own on a
#      free port (no persistence), N nodes with --redis-url on it, and
#      Debian's nginx (run as the current user, -p/-c there) balancing them
#      round robin, every request to the next node, buffering off; its
#      access.log records per request the node (up=, see nodes.txt), the
#      session, Last-Event-ID and the JSON-RPC body;
#   4. runs `server --suite all` of each version against the endpoint
#      (nginx's in cluster mode), writing results under
#      .tools/conformance/results/<version> (results-cluster/ with NODES);
#   5. prints pass/fail counts per scenario (conformance/summarize.mjs) and
#      fails on any failing scenario not listed, with a reason, in
#      conformance/baseline.txt, and on any listed scenario that passes.
#
# Environment: SUITES (default "0.1.16 0.2.0-alpha.12"), SCENARIO (run one
# scenario only), NODES (default 1), SUITE_TIMEOUT (seconds per suite,
# default 300). Everything started is stopped on exit; logs stay in .tools/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=$ROOT/.tools
WORK=$TOOLS/conformance
SUITES=${SUITES:-"0.1.16 0.2.0-alpha.12"}
SCENARIO=${SCENARIO:-}
NODES=${NODES:-1}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-300}
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

# --- 3. the server, or a cluster of them behind nginx -------------------------
BIN=$WORK/mcpfiber
(cd "$ROOT" && go build -o "$BIN" .)

PIDS=() # every process this script started, stopped in reverse order on exit
cleanup() {
	local i pid
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		pid=${PIDS[i]}
		kill -0 "$pid" 2>/dev/null || continue
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
trap cleanup EXIT

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
	node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# start_node LOG [ARGS...]: start the binary on a free loopback port, wait
# for the URL in its log and set NODE_URL to it.
start_node() {
	local log=$1 url=
	shift
	: >"$log"
	"$BIN" --addr 127.0.0.1:0 --catalog conformance --log-level info "$@" >"$log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 1 100); do
		url=$(sed -nE 's/.*mcpfiber listening.* url=([^ ]+).*/\1/p' "$log" | head -n1)
		[ -n "$url" ] && break
		if ! kill -0 "${PIDS[-1]}" 2>/dev/null; then
			echo "conformance: the server exited at start:" >&2
			cat "$log" >&2
			exit 1
		fi
		sleep 0.1
	done
	if [ -z "$url" ]; then
		echo "conformance: the server did not report its URL within 10s:" >&2
		cat "$log" >&2
		exit 1
	fi
	NODE_URL=$url
}

LOGS=()
if [ "$NODES" -le 1 ]; then
	LOG=$WORK/server.log
	LOGS=("$LOG")
	start_node "$LOG"
	URL=$NODE_URL
	echo "conformance: server at $URL (pid ${PIDS[-1]}), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	RESULTS=$WORK/results
else
	# Everything of the cluster lives in .tools/conformance/cluster, made
	# afresh each run and left in place for a look after it.
	export PATH=$PATH:/usr/sbin:/sbin # Debian's nginx is in /usr/sbin
	for cmd in redis-server redis-cli nginx; do
		command -v $cmd >/dev/null || { echo "conformance: no $cmd (make debs installs it)" >&2; exit 1; }
	done
	C=$WORK/cluster
	rm -rf "$C"
	mkdir -p "$C/redis" "$C/nginx/logs" "$C/nginx/tmp"

	# Redis of our own: no persistence, no clash with a local 6379.
	REDIS_PORT=$(free_port)
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
		--dir "$C/redis" --logfile "$C/redis/redis.log" >/dev/null 2>&1 &
	PIDS+=($!)
	for _ in $(seq 1 100); do
		redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
		kill -0 "${PIDS[-1]}" 2>/dev/null || { echo "conformance: redis-server exited at start:" >&2; cat "$C/redis/redis.log" >&2; exit 1; }
		sleep 0.1
	done
	REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0

	UPSTREAMS= NODEMAP=
	for i in $(seq 1 "$NODES"); do
		LOGS+=("$C/node$i.log")
		start_node "$C/node$i.log" --redis-url "$REDIS_URL"
		u=$NODE_URL
		hostport=${u#http://}
		hostport=${hostport%%/*}
		echo "conformance: node $i at $u (pid ${PIDS[-1]})"
		echo "node $i $hostport" >>"$C/nodes.txt"
		UPSTREAMS+="        server $hostport;"$'\n'
		NODEMAP+="        $hostport $i;"$'\n'
	done
	path=/${u#http://*/}

	# nginx as the current user: prefix, pid, logs and temp files in
	# $C/nginx; `user` only when run as root (workers would be nobody).
	NGINX_PORT=$(free_port)
	user=
	[ "$(id -u)" = 0 ] && user="user root;"
	cat >"$C/nginx/nginx.conf" <<-EOF
	# written by conformance/run.sh (NODES=$NODES)
	daemon off;
	$user
	worker_processes 1;
	pid $C/nginx/nginx.pid;
	error_log $C/nginx/logs/error.log notice;
	events { worker_connections 1024; }
	http {
	    client_body_temp_path $C/nginx/tmp/body;
	    proxy_temp_path $C/nginx/tmp/proxy;
	    fastcgi_temp_path $C/nginx/tmp/fastcgi;
	    uwsgi_temp_path $C/nginx/tmp/uwsgi;
	    scgi_temp_path $C/nginx/tmp/scgi;
	    # Which node served which request: node=<i> (up=\$upstream_addr;
	    # several when nginx tried another), the session, Last-Event-ID and
	    # the JSON-RPC body.
	    map \$upstream_addr \$node {
	        default "?";
	$NODEMAP
	    }
	    log_format mcp escape=json '\$time_iso8601 end=\$msec \$request_method \$uri \$status node=\$node up=\$upstream_addr ust=\$upstream_status t=\$request_time '
	        'sid=\$http_mcp_session_id leid=\$http_last_event_id pv=\$http_mcp_protocol_version '
	        'accept=\$http_accept ct=\$sent_http_content_type body=\$request_body';
	    access_log $C/nginx/logs/access.log mcp;
	    upstream mcpfiber {
	        # plain round robin: each request goes to the next node
	$UPSTREAMS
	        keepalive 16;
	    }
	    server {
	        listen 127.0.0.1:$NGINX_PORT;
	        location / {
	            proxy_pass http://mcpfiber;
	            proxy_http_version 1.1;
	            proxy_set_header Connection "";
	            # the client's Host (the nodes check it); Mcp-Session-Id,
	            # MCP-Protocol-Version, Last-Event-ID, Origin and the rest
	            # pass through as nginx passes every request header
	            proxy_set_header Host \$http_host;
	            proxy_buffering off;
	            proxy_cache off;
	            gzip off;
	            proxy_read_timeout 1h;
	            proxy_send_timeout 1h;
	            client_max_body_size 4m;
	            client_body_buffer_size 4m; # keeps \$request_body in memory for the log
	        }
	    }
	}
	EOF
	nginx -p "$C/nginx" -e "$C/nginx/logs/error.log" -c "$C/nginx/nginx.conf" -t -q
	nginx -p "$C/nginx" -e "$C/nginx/logs/error.log" -c "$C/nginx/nginx.conf" >"$C/nginx/logs/stderr.log" 2>&1 &
	PIDS+=($!)
	URL=http://127.0.0.1:$NGINX_PORT$path
	for _ in $(seq 1 100); do
		# any HTTP answer means nginx listens (the nodes answer GET without a session)
		[ "$(node -e 'fetch(process.argv[1]).then(r=>console.log(r.status),()=>console.log(0))' "$URL")" != 0 ] && break
		kill -0 "${PIDS[-1]}" 2>/dev/null || { echo "conformance: nginx exited at start:" >&2; cat "$C/nginx/logs/stderr.log" "$C/nginx/logs/error.log" >&2; exit 1; }
		sleep 0.1
	done
	echo "conformance: $NODES nodes on $REDIS_URL behind nginx (round robin) at $URL, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "conformance: access log $C/nginx/logs/access.log, node logs $C/node*.log"
	RESULTS=$WORK/results-cluster
fi

# --- 4. the suites ------------------------------------------------------------
status=0
for v in $SUITES; do
	dist=$WORK/suite-$v/node_modules/@modelcontextprotocol/conformance/dist/index.js
	out=$RESULTS/$v
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
	# results against the baseline. A hung suite is stopped after $SUITE_TIMEOUT seconds.
	timeout "$SUITE_TIMEOUT" node "$dist" "${args[@]}" >"$out/console.txt" 2>&1 || true
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

if [ "$NODES" -gt 1 ]; then
	# proof of the balancing: requests per node over the whole run
	echo "conformance: requests per node (nginx access.log): $(sed -nE 's/.* node=([^ ]+) .*/\1/p' "$C/nginx/logs/access.log" | sort | uniq -c | awk '{printf "node %s: %s  ", $2, $1}')"
fi
if [ $status -ne 0 ]; then
	for log in "${LOGS[@]}"; do
		echo "conformance: $log (last 40 lines):" >&2
		tail -n 40 "$log" >&2
	done
fi
exit $status
