package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/loadtest/load"
)

// full enables the large sizes (storm of 10 000 clients, 1 000 SSE
// streams, 5 000 sessions for memory): MCPFIBER_BENCH_FULL=1. Without it,
// each benchmark stays small enough for `make test` to run it once
// (-benchtime=1x) in a few seconds.
var full = os.Getenv("MCPFIBER_BENCH_FULL") == "1"

// parallelism is the client goroutines per GOMAXPROCS in the throughput
// benchmarks: enough requests in flight to keep the server busy.
const parallelism = 8

func TestMain(m *testing.M) {
	if name := os.Getenv(envServe); name != "" {
		os.Exit(serveChild(name))
	}
	os.Exit(m.Run())
}

// The child process: this test binary, re-executed with these set.
const (
	envServe = "MCPFIBER_BENCH_SERVE" // the server to run
	envAddr  = "MCPFIBER_BENCH_ADDR"  // its address
	envStats = "MCPFIBER_BENCH_STATS" // the address of /memstats
	envMode  = "MCPFIBER_BENCH_MODE"  // the call mode it is set up for
)

// serveChild runs a server until SIGTERM (or SIGKILL).
func serveChild(name string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serveStats(os.Getenv(envStats)); err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1
	}
	t, err := Start(name, Config{Addr: os.Getenv(envAddr), Mode: os.Getenv(envMode)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1
	}
	<-ctx.Done()
	t.Close()
	return 0
}

// A child is a server running in a child process.
type child struct {
	proc  *load.ServerProcess
	url   string
	stats string
}

func startChild(tb testing.TB, name string) *child {
	tb.Helper()
	addr, stats := freeAddr(tb), freeAddr(tb)
	p := &load.ServerProcess{
		Args:   []string{os.Args[0], "-test.run=^$"},
		Env:    []string{envServe + "=" + name, envAddr + "=" + addr, envStats + "=" + stats},
		Addr:   addr,
		Stderr: os.Stderr,
	}
	if err := p.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Stop() })
	return &child{proc: p, url: "http://" + addr + "/mcp", stats: "http://" + stats + "/memstats"}
}

func (c *child) memStats(tb testing.TB) MemStats {
	tb.Helper()
	resp, err := http.Get(c.stats)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var m MemStats
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start starts an in-process server for a benchmark.
func start(b *testing.B, name string, cfg Config) (*Target, *load.Client) {
	b.Helper()
	t, err := Start(name, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(t.Close)
	c, err := load.NewClient(t.URL, &load.Options{MaxConns: runtime.GOMAXPROCS(0) * parallelism, Timeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdleConnections)
	return t, c
}

func reportRate(b *testing.B, n int64, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(n)/s, unit)
	}
}

// BenchmarkMiss: a request naming an unknown session, answered 404
// (2025-11-25 basic/transports §Session Management). The floor is a bare
// fasthttp handler that only answers 404. mcp-go: POST only (its GET
// opens a stream and its DELETE answers 200 for an unknown ID). The timed
// loop looks only at the status (load.Request.StatusOnly): the client
// still reads every answer's body, but does not parse it, so the floor's
// empty body does not make the client's share of the 2 cores smaller.
// Each method runs on every server back to back (floor first), so that the
// ratios to the floor compare runs minutes apart on a shared machine
// less often.
func BenchmarkMiss(b *testing.B) {
	for _, method := range []string{"POST", "GET", "DELETE"} {
		for _, name := range append([]string{Floor}, Servers...) {
			if name == MCPGo && method != "POST" {
				continue
			}
			b.Run("server="+name+"/method="+method, func(b *testing.B) {
				_, c := start(b, name, Config{})
				runMiss(b, c, method, "0123456789abcdef0123456789abcdef")
			})
		}
	}
}

// runMiss times requests of method naming session sid, each answered
// 404, from parallel clients.
func runMiss(b *testing.B, c *load.Client, method, sid string) {
	b.Helper()
	req := load.Request{Method: method, SessionID: sid, Version: load.DefaultProtocolVersion}
	if method == "POST" {
		req.Msg = &load.Message{ID: 1, Method: "tools/call", Params: load.EchoParams}
	}
	if r := c.Do(&req); r.Status != http.StatusNotFound { // warm up, and check
		b.Fatalf("%s with an unknown session: %s, want 404", method, r.Key())
	}
	var bad atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := req
		r.StatusOnly = true
		for pb.Next() {
			if resp := c.Do(&r); resp.Status != http.StatusNotFound {
				bad.Add(1)
			}
		}
	})
	reportRate(b, int64(b.N), "req/s")
	if n := bad.Load(); n > 0 {
		b.Fatalf("%d answers were not 404", n)
	}
}

// BenchmarkHandshake: initialize + notifications/initialized + DELETE.
func BenchmarkHandshake(b *testing.B) {
	for _, name := range Servers {
		b.Run("server="+name, func(b *testing.B) {
			_, c := start(b, name, Config{})
			runHandshake(b, c)
		})
	}
}

// runHandshake times handshakes (initialize, notifications/initialized)
// each followed by its DELETE, from parallel clients.
func runHandshake(b *testing.B, c *load.Client) {
	b.Helper()
	var failed atomic.Pointer[string]
	var id atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sid, version, f := c.Handshake(id.Add(1))
			if f != nil {
				k := "handshake " + f.Key()
				failed.CompareAndSwap(nil, &k)
				continue
			}
			if r := c.Delete(sid, version); r.Status/100 != 2 {
				k := "DELETE " + r.Key()
				failed.CompareAndSwap(nil, &k)
			}
		}
	})
	reportRate(b, int64(b.N), "handshakes/s")
	if f := failed.Load(); f != nil {
		b.Fatalf("a handshake failed: %s", *f)
	}
}

// BenchmarkCall: tools/call echo in established sessions (one per client
// goroutine), answered with application/json or with an SSE stream.
func BenchmarkCall(b *testing.B) {
	for _, mode := range []string{ModeJSON, ModeSSE} {
		for _, name := range Servers {
			b.Run("server="+name+"/mode="+mode, func(b *testing.B) {
				t, c := start(b, name, Config{Mode: mode})
				runCall(b, t, c, mode)
			})
		}
	}
}

// runCall times tools/call echo in established sessions of t (one per
// client goroutine) answered in mode, from parallel clients.
func runCall(b *testing.B, t *Target, c *load.Client, mode string) {
	b.Helper()
	type sess struct{ sid, version string }
	ss := make([]sess, runtime.GOMAXPROCS(0)*parallelism)
	for i := range ss {
		sid, version, f := c.Handshake(int64(i + 1))
		if f != nil {
			b.Fatalf("handshake: %s", f.Key())
		}
		if t.Prepare != nil {
			if err := t.Prepare(sid, mode); err != nil {
				b.Fatal(err)
			}
		}
		ss[i] = sess{sid, version}
		// Check the mode (and drain what Prepare queued).
		if r := c.Call(sid, version, 1, t.Accept(mode)); !r.OK() || !r.Result || r.SSE != (mode == ModeSSE) {
			b.Fatalf("tools/call: %s (sse=%v), want a result as %s", r.Key(), r.SSE, mode)
		}
	}
	var next atomic.Int64
	var bad atomic.Int64
	accept := t.Accept(mode)
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		s := ss[int(next.Add(1)-1)%len(ss)]
		id := int64(1)
		for pb.Next() {
			id++
			if r := c.Call(s.sid, s.version, id, accept); !r.OK() || !r.Result || r.SSE != (mode == ModeSSE) {
				bad.Add(1)
			}
		}
	})
	reportRate(b, int64(b.N), "calls/s")
	if n := bad.Load(); n > 0 {
		b.Fatalf("%d calls failed or came in the wrong mode", n)
	}
}

// BenchmarkSSE: one notification to each of N open GET streams per op;
// events/s is what the clients received.
func BenchmarkSSE(b *testing.B) {
	n := 100
	if full {
		n = 1000
	}
	for _, name := range Servers {
		b.Run(fmt.Sprintf("server=%s/streams=%d", name, n), func(b *testing.B) {
			t, c := start(b, name, Config{})
			var total, target atomic.Int64
			arrived := make(chan struct{}, 1)
			streams := openStreams(b, c, n, func([]byte) {
				if total.Add(1) == target.Load() {
					select {
					case arrived <- struct{}{}:
					default:
					}
				}
			})
			b.Cleanup(func() { closeStreams(streams) })
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				target.Store(int64((i + 1) * n))
				if sent := t.Broadcast(i); sent >= 0 && sent != n {
					b.Fatalf("broadcast reached %d sessions, want %d", sent, n)
				}
				select {
				case <-arrived:
				case <-time.After(10 * time.Second):
					b.Fatalf("round %d: %d of %d events arrived", i, total.Load()-int64(i*n), n)
				}
			}
			reportRate(b, total.Load(), "events/s")
		})
	}
}

type openStream struct {
	st   *load.Stream
	done chan struct{}
}

// openStreams opens n sessions and their GET streams, each read by a
// goroutine that calls onEvent for every notification.
func openStreams(tb testing.TB, c *load.Client, n int, onEvent func([]byte)) []*openStream {
	tb.Helper()
	out := make([]*openStream, n)
	var mu sync.Mutex
	var firstErr string
	load.ForEach(context.Background(), n, 16, func(i int) {
		fail := func(s string) {
			mu.Lock()
			if firstErr == "" {
				firstErr = s
			}
			mu.Unlock()
		}
		sid, version, f := c.Handshake(int64(i + 1))
		if f != nil {
			fail("handshake " + f.Key())
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, status, err := c.OpenStream(ctx, sid, version)
		if st == nil {
			fail(fmt.Sprintf("GET stream: %d %v", status, err))
			return
		}
		os := &openStream{st: st, done: make(chan struct{})}
		go func() { // owner: openStreams' caller (closeStreams); exit: the stream closes
			defer close(os.done)
			_ = st.Read(func(data []byte) {
				if bytes.Contains(data, []byte(`"notifications/`)) {
					onEvent(data)
				}
			})
		}()
		out[i] = os
	})
	if firstErr != "" {
		closeStreams(out)
		tb.Fatalf("opening %d streams: %s", n, firstErr)
	}
	return out
}

func closeStreams(ss []*openStream) {
	for _, s := range ss {
		if s != nil {
			s.st.Close()
			<-s.done
		}
	}
}

// BenchmarkStorm: N clients with established sessions; the server (a child
// process) is killed and started again, so every session is lost at once;
// every client then sends its stale ID at the same moment and recovers as
// the spec says (404 → initialize → notifications/initialized → retry).
// recovery-ms is when the last client succeeded.
func BenchmarkStorm(b *testing.B) {
	sizes := []int{1000}
	if full {
		sizes = append(sizes, 10000)
	}
	for _, n := range sizes {
		for _, name := range Servers {
			b.Run(fmt.Sprintf("server=%s/clients=%d", name, n), func(b *testing.B) {
				ch := startChild(b, name)
				c, err := load.NewClient(ch.url, &load.Options{MaxConns: 512, Timeout: time.Minute})
				if err != nil {
					b.Fatal(err)
				}
				var sum load.StormResult
				b.ReportAllocs()
				for range b.N {
					st := &load.Storm{Client: c, Clients: n, Lose: ch.proc.Restart, Deadline: 2 * time.Minute}
					r, err := st.Run(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					sum.RecoveryMs += r.RecoveryMs
					sum.P50Ms += r.P50Ms
					sum.P99Ms += r.P99Ms
					sum.Wasted += r.Wasted
					sum.Failures += r.Failures
					sum.NotFoundMax = max(sum.NotFoundMax, r.NotFoundMax)
					if sum.NotFoundMin == 0 || r.NotFoundMin < sum.NotFoundMin {
						sum.NotFoundMin = r.NotFoundMin
					}
				}
				k := float64(b.N)
				b.ReportMetric(sum.RecoveryMs/k, "recovery-ms")
				b.ReportMetric(sum.P50Ms/k, "p50-ms")
				b.ReportMetric(sum.P99Ms/k, "p99-ms")
				b.ReportMetric(float64(sum.Wasted)/k, "wasted-req")
				b.ReportMetric(float64(sum.Failures)/k, "failures")
				b.ReportMetric(float64(sum.NotFoundMin), "404-per-client-min")
				b.ReportMetric(float64(sum.NotFoundMax), "404-per-client-max")
			})
		}
	}
}

// BenchmarkMemory: the memory a server holds per idle session and per
// open GET stream, measured in the server's own process (a child) as the
// growth of live heap + goroutine stacks after two GCs.
func BenchmarkMemory(b *testing.B) {
	n := 1000
	if full {
		n = 5000
	}
	for _, name := range Servers {
		b.Run(fmt.Sprintf("server=%s/sessions=%d", name, n), func(b *testing.B) {
			ch := startChild(b, name)
			c, err := load.NewClient(ch.url, &load.Options{MaxConns: 8, Timeout: 30 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			var perSession, perStream, goroutines float64
			b.ReportAllocs()
			for range b.N {
				// Warm up: the 8 keep-alive connections, pools and caches.
				load.ForEach(context.Background(), 200, 8, func(i int) {
					if sid, v, f := c.Handshake(int64(i)); f == nil {
						c.Delete(sid, v)
					}
				})
				base := ch.memStats(b)
				sids := make([][2]string, n)
				load.ForEach(context.Background(), n, 8, func(i int) {
					sid, v, f := c.Handshake(int64(i + 1))
					if f != nil {
						b.Errorf("handshake: %s", f.Key())
						return
					}
					sids[i] = [2]string{sid, v}
				})
				idle := ch.memStats(b)
				streams := make([]*openStream, n)
				load.ForEach(context.Background(), n, 16, func(i int) {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					st, status, err := c.OpenStream(ctx, sids[i][0], sids[i][1])
					if st == nil {
						b.Errorf("GET stream: %d %v", status, err)
						return
					}
					os := &openStream{st: st, done: make(chan struct{})}
					go func() { defer close(os.done); _ = st.Read(nil) }() // owner: this benchmark; exit: closeStreams
					streams[i] = os
				})
				open := ch.memStats(b)
				closeStreams(streams)
				load.ForEach(context.Background(), n, 8, func(i int) { c.Delete(sids[i][0], sids[i][1]) })
				perSession += float64(idle.Live()-base.Live()) / float64(n)
				perStream += float64(open.Live()-idle.Live()) / float64(n)
				goroutines += float64(open.Goroutines-idle.Goroutines) / float64(n)
			}
			k := float64(b.N)
			b.ReportMetric(perSession/k, "B/idle-session")
			b.ReportMetric(perStream/k, "B/sse-stream")
			b.ReportMetric(goroutines/k, "goroutines/sse-stream")
		})
	}
}

// TestServersServeEcho checks that every server answers the same echo
// tool, in both call modes, before anything is measured.
func TestServersServeEcho(t *testing.T) {
	for _, mode := range []string{ModeJSON, ModeSSE} {
		for _, name := range Servers {
			t.Run(name+"/"+mode, func(t *testing.T) {
				tg, err := Start(name, Config{Mode: mode})
				if err != nil {
					t.Fatal(err)
				}
				defer tg.Close()
				c, err := load.NewClient(tg.URL, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseIdleConnections()
				sid, version, f := c.Handshake(1)
				if f != nil {
					t.Fatalf("handshake: %s", f.Key())
				}
				if tg.Prepare != nil {
					if err := tg.Prepare(sid, mode); err != nil {
						t.Fatal(err)
					}
				}
				for i := range 2 {
					r := c.Call(sid, version, int64(2+i), tg.Accept(mode))
					if !r.OK() || !r.Result || r.SSE != (mode == ModeSSE) {
						t.Fatalf("call %d: %s sse=%v, want a result as %s", i, r.Key(), r.SSE, mode)
					}
				}
				if r := c.Do(&load.Request{Method: "POST", SessionID: "0123456789abcdef0123456789abcdef", Version: version,
					Msg: &load.Message{ID: 9, Method: "tools/call", Params: load.EchoParams}}); r.Status != 404 {
					t.Errorf("stale session: %s, want 404", r.Key())
				}
				if r := c.Delete(sid, version); r.Status/100 != 2 {
					t.Errorf("DELETE: %s", r.Key())
				}
			})
		}
	}
}
