package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/loadtest/load"
	"github.com/mcpfiber/mcpfiber/redisstore"
)

// The session store benchmarks (issue #10) run mcpfiber with its sessions
// in memory (the default) and in Redis (server.Config.SessionStore, on a
// redis-server each benchmark starts on a free port), side by side: every
// benchmark has the sub-benchmarks store=memory and store=redis, back to
// back, so that benchstat can compare them (benchstat -col /store).
//
//	./store_bench.sh    # or make bench-store, which saves RESULTS-store.txt
//
// runs 20 passes, each variant in its own process, the order of the two
// reversed on every other pass; go test -bench '^BenchmarkStore' runs
// them once each, memory first. Figures and verdicts: RESULTS.md, "Redis
// session store (#10)".

// Stores, as they appear in benchmark names (store=…).
const (
	StoreMemory = "memory"
	StoreRedis  = "redis"
)

// stores are the session stores compared, the in-memory baseline first.
var stores = []string{StoreMemory, StoreRedis}

// startStore starts mcpfiber in-process with its sessions in store; r is
// the Redis of store=redis (nil for memory).
func startStore(b *testing.B, store string, r *testutil.Redis, mode string) (*Target, *load.Client) {
	b.Helper()
	cfg := Config{Mode: mode}
	if store == StoreRedis {
		cfg.RedisURL = r.URL()
	}
	return start(b, MCPFiber, cfg)
}

// BenchmarkStoreCall: tools/call echo in established sessions held on the
// node (the sessions map's cache), answered with application/json. In
// Redis mode a call on such a session sends no Redis command.
func BenchmarkStoreCall(b *testing.B) {
	r := testutil.StartRedis(b)
	for _, store := range stores {
		b.Run("store="+store, func(b *testing.B) {
			t, c := startStore(b, store, r, ModeJSON)
			if _, err := r.Do("CONFIG", "RESETSTAT"); err != nil {
				b.Fatal(err)
			}
			cpu := startCPU(b, r)
			runCall(b, t, c, ModeJSON)
			cpu.report(b)
			if stats, err := r.Do("INFO", "commandstats"); err != nil {
				b.Fatal(err)
			} else if strings.Contains(stats, "cmdstat_get:") {
				b.Fatalf("calls on sessions held here sent GETs to Redis:\n%s", stats)
			}
		})
	}
}

// BenchmarkStoreHandshake: initialize + notifications/initialized +
// DELETE. In Redis mode a handshake stores the record (the cap's script
// and a SET), saves it again once initialized, and deletes it.
func BenchmarkStoreHandshake(b *testing.B) {
	r := testutil.StartRedis(b)
	for _, store := range stores {
		b.Run("store="+store, func(b *testing.B) {
			_, c := startStore(b, store, r, "")
			cpu := startCPU(b, r)
			runHandshake(b, c)
			cpu.report(b)
		})
	}
}

// BenchmarkStoreMiss: a POST tools/call naming a session that cannot be
// served, answered 404. id=forged has the right shape: an issued ID with
// its last hex digit changed, which in memory names no session and in
// Redis fails the tag check (redisstore's ValidID, no Redis command).
// id=garbage has the wrong shape.
func BenchmarkStoreMiss(b *testing.B) {
	r := testutil.StartRedis(b)
	for _, kind := range []string{"forged", "garbage"} {
		for _, store := range stores {
			b.Run("id="+kind+"/store="+store, func(b *testing.B) {
				_, c := startStore(b, store, r, "")
				sid := "not-a-session-id"
				if kind == "forged" {
					sid = forge(b, c)
				}
				cpu := startCPU(b, r)
				runMiss(b, c, "POST", sid)
				cpu.report(b)
			})
		}
	}
}

// forge returns an ID of the server's shape that it did not issue: a
// session's ID, its last hex digit changed, after the session ended.
func forge(b *testing.B, c *load.Client) string {
	b.Helper()
	sid, version, f := c.Handshake(1)
	if f != nil {
		b.Fatalf("handshake: %s", f.Key())
	}
	if r := c.Delete(sid, version); r.Status/100 != 2 {
		b.Fatalf("DELETE: %s", r.Key())
	}
	last := sid[len(sid)-1]
	swap := byte('0')
	if last == '0' {
		swap = '1'
	}
	return sid[:len(sid)-1] + string(swap)
}

// BenchmarkStoreMemory: the Redis memory an idle session costs, N
// sessions made by handshakes over HTTP: MEMORY USAGE of each record key
// (B/record, mean), and the share of the cap's sorted set (MEMORY USAGE
// of the live key divided by its members, B/live-share). The node's own
// memory per session is BenchmarkMemory's.
func BenchmarkStoreMemory(b *testing.B) {
	n := 1000
	if full {
		n = 10000
	}
	b.Run(fmt.Sprintf("sessions=%d/store=%s", n, StoreRedis), func(b *testing.B) {
		r := testutil.StartRedis(b)
		_, c := startStore(b, StoreRedis, r, "")
		var record, share float64
		for range b.N {
			sids := make([][2]string, n)
			var mu sync.Mutex
			var failed string
			load.ForEach(context.Background(), n, 16, func(i int) {
				sid, v, f := c.Handshake(int64(i + 1))
				if f != nil {
					mu.Lock()
					failed = f.Key()
					mu.Unlock()
					return
				}
				sids[i] = [2]string{sid, v}
			})
			if failed != "" {
				b.Fatalf("handshake: %s", failed)
			}
			var total int64
			for _, s := range sids {
				total += memoryUsage(b, r, redisstore.DefaultPrefix+"s:{"+s[0]+"}")
			}
			live := memoryUsage(b, r, redisstore.DefaultPrefix+"live")
			members, err := r.Do("ZCARD", redisstore.DefaultPrefix+"live")
			if err != nil {
				b.Fatal(err)
			}
			if m, _ := strconv.Atoi(members); m != n {
				b.Fatalf("the live set has %s members, want %d", members, n)
			}
			record += float64(total) / float64(n)
			share += float64(live) / float64(n)
			load.ForEach(context.Background(), n, 16, func(i int) {
				if r := c.Delete(sids[i][0], sids[i][1]); r.Status/100 != 2 {
					mu.Lock()
					failed = r.Key()
					mu.Unlock()
				}
			})
			if failed != "" {
				b.Fatalf("DELETE: %s", failed)
			}
		}
		k := float64(b.N)
		b.ReportMetric(record/k, "B/record")
		b.ReportMetric(share/k, "B/live-share")
		b.ReportMetric((record+share)/k, "B/idle-session")
	})
}

// memoryUsage returns MEMORY USAGE of key (SAMPLES 0: every element).
func memoryUsage(b *testing.B, r *testutil.Redis, key string) int64 {
	b.Helper()
	got, err := r.Do("MEMORY", "USAGE", key, "SAMPLES", "0")
	if err != nil {
		b.Fatal(err)
	}
	n, err := strconv.ParseInt(got, 10, 64)
	if err != nil {
		b.Fatalf("MEMORY USAGE %s = %q: the key is missing", key, got)
	}
	return n
}

// A cpuMeter measures the CPU time of this process (client and server,
// user and system) and of the redis-server (INFO cpu) over a benchmark:
// on a machine shared with other work, CPU time per operation varies
// less than wall time. The redis-server runs in both modes, so its idle
// ticks count on both sides.
type cpuMeter struct {
	r           *testutil.Redis
	self, redis time.Duration
}

func startCPU(b *testing.B, r *testutil.Redis) *cpuMeter {
	b.Helper()
	return &cpuMeter{r: r, self: selfCPU(b), redis: redisCPU(b, r)}
}

// report reports cpu-ns/op, the CPU time of both processes per
// operation, and redis-cpu-ns/op, the redis-server's share.
func (m *cpuMeter) report(b *testing.B) {
	b.Helper()
	self, redis := selfCPU(b)-m.self, redisCPU(b, m.r)-m.redis
	b.ReportMetric(float64(self+redis)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(redis)/float64(b.N), "redis-cpu-ns/op")
}

func selfCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// redisCPU returns the redis-server's CPU time so far (used_cpu_sys +
// used_cpu_user of INFO cpu).
func redisCPU(b *testing.B, r *testutil.Redis) time.Duration {
	b.Helper()
	info, err := r.Do("INFO", "cpu")
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (k != "used_cpu_sys" && k != "used_cpu_user") {
			continue
		}
		sec, err := strconv.ParseFloat(v, 64)
		if err != nil {
			b.Fatalf("INFO cpu: %q", line)
		}
		total += time.Duration(sec * float64(time.Second))
	}
	return total
}

// BenchmarkStoreEvents: SSE events of POST streams (#11). Each op is a
// tools/call of progress with 50 steps and no interval, answered on the
// POST's SSE stream: 50 progress notifications, 50 log messages and the
// result. In Redis mode every event is also appended to the stream's log
// in Redis (a queue and a writer goroutine, batched), so that a client
// can resume on another node; events/s compares what a node sustains.
func BenchmarkStoreEvents(b *testing.B) {
	const steps = 50
	params := []byte(fmt.Sprintf(`{"name":"progress","arguments":{"steps":%d,"intervalMs":0},"_meta":{"progressToken":"p"}}`, steps))
	r := testutil.StartRedis(b)
	for _, store := range stores {
		b.Run("store="+store, func(b *testing.B) {
			_, c := startStore(b, store, r, ModeSSE)
			ss, err := c.Handshakes(context.Background(), parallelism, parallelism)
			if err != nil {
				b.Fatalf("handshake: %s", err)
			}
			var next, bad atomic.Int64
			cpu := startCPU(b, r)
			b.ReportAllocs()
			b.SetParallelism(1)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				s := ss[int(next.Add(1)-1)%len(ss)]
				id := int64(1)
				for pb.Next() {
					id++
					resp := c.Do(&load.Request{Method: "POST", SessionID: s.ID, Version: s.Version, Accept: load.AcceptBoth,
						Msg: &load.Message{ID: id, Method: "tools/call", Params: params}})
					if !resp.OK() || !resp.Result || !resp.SSE {
						bad.Add(1)
					}
				}
			})
			b.StopTimer()
			cpu.report(b)
			reportRate(b, int64(b.N)*(2*steps+1), "events/s")
			if n := bad.Load(); n > 0 {
				b.Fatalf("%d calls failed or were not answered with SSE", n)
			}
		})
	}
}
