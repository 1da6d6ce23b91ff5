#!/bin/bash
# store_bench.sh runs the session store benchmarks (store_test.go, #10):
# PASSES passes (default 20) of BENCHTIME each (default 0.5s); in each pass
# the two variants of a benchmark (store=memory, store=redis) run back to
# back, each in its own process, memory first on odd passes and redis
# first on even ones, so that neither always runs under the load the
# other left. Then BenchmarkStoreMemory once. Output: go test -bench
# lines, with a "# pass" line per pass (load average), for benchstat
# (-col /store) or by hand. Run from bench/ (make bench-store does).
set -euo pipefail
passes=${PASSES:-20}
benchtime=${BENCHTIME:-0.5s}
bin=$(mktemp -d)/bench.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" .
run() { "$bin" -test.run '^$' -test.bench "$1" -test.benchmem -test.benchtime "$2" -test.count 1 | grep '^Benchmark'; }
for i in $(seq 1 "$passes"); do
	echo "# pass $i $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
	if ((i % 2)); then order="memory redis"; else order="redis memory"; fi
	for bench in 'BenchmarkStoreCall$' 'BenchmarkStoreHandshake$' 'BenchmarkStoreMiss$/^id=forged$' 'BenchmarkStoreMiss$/^id=garbage$'; do
		for st in $order; do
			run "^${bench}/^store=${st}\$" "$benchtime"
		done
	done
done
run '^BenchmarkStoreMemory$' 1x
