package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/loadtest/load"
	"github.com/mcpfiber/mcpfiber/server"
)

// startServer starts the real mcpfiber server in-process on 127.0.0.1:0
// and returns it; it is shut down when the test ends.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	srv := server.New(server.Config{
		Addr:        "127.0.0.1:0",
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		DrainWindow: 10 * time.Millisecond,
		GracePeriod: 2 * time.Second,
	})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

// runCmd runs the command with args (after the common ones) against url
// and returns its result and stdout.
func runCmd(t *testing.T, ctx context.Context, url string, args ...string) (*load.Result, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	all := append([]string{"--url", url, "--progress=false"}, args...)
	res, err := run(ctx, all, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run %q: %v\nstderr: %s", all, err, stderr.String())
	}
	return res, stdout.String()
}

// waitSessions waits until srv has at most max sessions live.
func waitSessions(t *testing.T, srv *server.Server, max int) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, func() error {
		if n := srv.Handler().Sessions().Len(); n > max {
			return fmt.Errorf("%d sessions live, want at most %d", n, max)
		}
		return nil
	})
}

func TestMiss(t *testing.T) {
	srv := startServer(t)
	res, out := runCmd(t, context.Background(), srv.URL(), "miss", "--count", "300", "--concurrency", "4", "--format", "json")
	if res.Requests != 300 || res.OK != 300 || res.Errors != 0 {
		t.Fatalf("miss: ops=%d ok=%d errors=%d, want 300 ops, all 404; statuses %v", res.Requests, res.OK, res.Errors, res.Statuses)
	}
	for _, m := range []string{"POST", "GET", "DELETE"} {
		if n := res.Statuses[m+" 404 -32001"]; n != 100 {
			t.Errorf("miss: %s got 404 -32001 %d times, want 100 (statuses %v)", m, n, res.Statuses)
		}
	}
	if res.Latency.Count != 300 || res.Latency.P50 <= 0 || res.Latency.P99 < res.Latency.P50 || res.Latency.Max < res.Latency.P99 {
		t.Errorf("miss: latency summary not sane: %+v", res.Latency)
	}
	// The JSON lines end with the summary.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum struct {
		Type string `json:"type"`
		OK   int64  `json:"ok"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Type != "summary" || sum.OK != 300 {
		t.Errorf("last JSON line = %q (%v), want the summary with ok 300", lines[len(lines)-1], err)
	}
}

// TestStatusOnly checks that a StatusOnly request reports the status and
// nothing of the body, and that the same request without it reports both.
func TestStatusOnly(t *testing.T) {
	srv := startServer(t)
	c, err := load.NewClient(srv.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	r := load.Request{Method: "DELETE", SessionID: "0123456789abcdef0123456789abcdef", Version: load.DefaultProtocolVersion}
	if got := c.Do(&r); got.Status != 404 || got.RPCError != -32001 {
		t.Errorf("Do = %s, want 404 -32001", got.Key())
	}
	r.StatusOnly = true
	for range 3 { // the connection stays usable: the body was read
		if got := c.Do(&r); got.Status != 404 || got.RPCError != 0 || got.Err != nil {
			t.Errorf("Do (StatusOnly) = %s, want 404 and no JSON-RPC error code", got.Key())
		}
	}
}

func TestHandshake(t *testing.T) {
	srv := startServer(t)
	res, out := runCmd(t, context.Background(), srv.URL(), "handshake", "--count", "50", "--concurrency", "4", "--format", "markdown")
	if res.OK != 50 || res.Errors != 0 {
		t.Fatalf("handshake: ok=%d errors=%d (statuses %v), want 50 and 0", res.OK, res.Errors, res.Statuses)
	}
	if n := srv.Handler().Sessions().Len(); n != 0 {
		t.Errorf("after handshake (each ends with DELETE): %d live sessions, want 0", n)
	}
	if !strings.Contains(out, "| loop |") || !strings.Contains(out, "| ok | 50 |") {
		t.Errorf("markdown output lacks the tables:\n%s", out)
	}
}

func TestCall(t *testing.T) {
	srv := startServer(t)
	for _, tc := range []struct{ mode, want string }{
		{"json", "200 json"},
		{"sse", "200 sse"},
		{"both", "200 json"}, // mcpfiber answers JSON when the tool sends nothing first
	} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			res, _ := runCmd(t, context.Background(), srv.URL(), "call", "--mode", tc.mode, "--count", "200", "--concurrency", "4")
			if res.OK != 200 || res.Statuses[tc.want] != 200 {
				t.Fatalf("call --mode %s: ok=%d statuses %v, want 200 × %q", tc.mode, res.OK, res.Statuses, tc.want)
			}
		})
	}
	waitSessions(t, srv, 0)
}

func TestOpenLoop(t *testing.T) {
	srv := startServer(t)
	res, _ := runCmd(t, context.Background(), srv.URL(), "call", "--rate", "400", "--duration", "250ms", "--concurrency", "8")
	if res.Loop != "open" || res.TargetRate != 400 {
		t.Fatalf("loop = %q at %v/s, want open at 400/s", res.Loop, res.TargetRate)
	}
	// 400/s for 250ms schedules exactly 100 operations.
	if res.Requests != 100 || res.Errors != 0 {
		t.Fatalf("open loop: ops=%d errors=%d, want 100 and 0 (statuses %v)", res.Requests, res.Errors, res.Statuses)
	}
}

// TestOpenLoopMeasuresFromIntendedTime checks that open-loop latency
// counts the time an operation waited behind a stalled one (no
// coordinated omission): with one worker, the operations due during a
// 100ms stall all report at least the rest of the stall.
func TestOpenLoopMeasuresFromIntendedTime(t *testing.T) {
	stall := 100 * time.Millisecond
	op := func(ctx context.Context, _ int, seq int64) (bool, string) {
		if seq == 0 {
			select { // a stalled server
			case <-time.After(stall):
			case <-ctx.Done():
			}
		}
		return true, "ok"
	}
	open := load.Run(context.Background(), load.Loop{Rate: 1000, Concurrency: 1, Count: 50}, op)
	closed := load.Run(context.Background(), load.Loop{Concurrency: 1, Count: 50}, op)
	// Operations 1..49 were due at 1..49 ms and could only start at 100ms.
	if open.Latency.P50 < 50 {
		t.Errorf("open loop p50 = %.3f ms, want ≥ 50 ms: the stall must count for every operation due during it", open.Latency.P50)
	}
	if closed.Latency.P50 > 10 {
		t.Errorf("closed loop p50 = %.3f ms, want about 0: each operation times itself", closed.Latency.P50)
	}
}

func TestSSE(t *testing.T) {
	srv := startServer(t)
	res, _ := runCmd(t, context.Background(), srv.URL(), "sse", "--streams", "20", "--duration", "200ms", "--concurrency", "8", "--pid", strconv.Itoa(os.Getpid()))
	s := res.Streams
	if s == nil || s.Opened != 20 || s.Failed != 0 || s.Dropped != 0 {
		t.Fatalf("sse: %+v (statuses %v), want 20 opened, none failed or dropped", s, res.Statuses)
	}
	if len(res.Proc) == 0 || res.Proc[len(res.Proc)-1].RSSBytes <= 0 {
		t.Errorf("sse --pid: no RSS sampled: %+v", res.Proc)
	}
	waitSessions(t, srv, 0)
}

func TestStorm(t *testing.T) {
	srv := startServer(t)
	for _, naive := range []bool{false, true} {
		t.Run("naive="+strconv.FormatBool(naive), func(t *testing.T) {
			res, _ := runCmd(t, context.Background(), srv.URL(), "storm", "--clients", "50", "--naive="+strconv.FormatBool(naive))
			s := res.Storm
			if s == nil {
				t.Fatal("storm: no storm result")
			}
			// mcpfiber answers 404 to every stale ID, so both policies
			// recover with exactly one 404 per client and nothing else
			// wasted: stale call, initialize, initialized, call.
			if s.Established != 50 || s.Recovered != 50 || s.Failures != 0 {
				t.Errorf("storm: established %d, recovered %d, failures %d; want 50, 50, 0", s.Established, s.Recovered, s.Failures)
			}
			if s.NotFoundMin != 1 || s.NotFoundMax != 1 || s.NotFound != 50 {
				t.Errorf("storm: 404s per client %d–%d (total %d), want exactly 1 each", s.NotFoundMin, s.NotFoundMax, s.NotFound)
			}
			if s.Wasted != 50 || s.Requests != 200 {
				t.Errorf("storm: wasted %d of %d requests, want 50 of 200 (statuses %v)", s.Wasted, s.Requests, s.Statuses)
			}
			if s.RecoveryMs <= 0 || s.P50Ms <= 0 || s.P99Ms < s.P50Ms || s.RecoveryMs < s.P99Ms*0.99 { // HdrHistogram values are within 0.1%
				t.Errorf("storm: times not sane: recovery %.3f ms, p50 %.3f, p99 %.3f", s.RecoveryMs, s.P50Ms, s.P99Ms)
			}
		})
	}
	waitSessions(t, srv, 100)
}

// TestStormRestart restarts a real mcpfiber process (built from the
// module) to lose the sessions.
func TestStormRestart(t *testing.T) {
	bin := mcpfiberBinary(t)
	addr := freeAddr(t)
	res, _ := runCmd(t, context.Background(), "http://"+addr+"/mcp", "storm", "--clients", "50",
		"--server-cmd", bin+" --addr "+addr+" --log-level error")
	s := res.Storm
	if s == nil || s.Recovered != 50 || s.Failures != 0 || s.NotFoundMin != 1 || s.NotFoundMax != 1 || s.Wasted != 50 {
		t.Fatalf("storm with restart: %+v", s)
	}
	if len(res.Proc) == 0 || res.Proc[0].RSSBytes <= 0 {
		t.Errorf("storm --server-cmd: the server process was not sampled: %+v", res.Proc)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestChurn(t *testing.T) {
	srv := startServer(t)
	res, _ := runCmd(t, context.Background(), srv.URL(), "churn", "--rate", "200", "--duration", "500ms", "--pid", strconv.Itoa(os.Getpid()))
	if res.Loop != "open" || res.Requests != 100 || res.Errors != 0 {
		t.Fatalf("churn: loop %q ops=%d errors=%d (statuses %v), want open, 100, 0", res.Loop, res.Requests, res.Errors, res.Statuses)
	}
	if len(res.Proc) < 2 || res.Proc[0].RSSBytes <= 0 || res.Proc[0].Threads <= 0 {
		t.Errorf("churn --pid: samples %+v, want RSS and threads before and after", res.Proc)
	}
	waitSessions(t, srv, 0)
}

func TestModern(t *testing.T) {
	srv := startServer(t)
	res, out := runCmd(t, context.Background(), srv.URL(), "modern", "--count", "20", "--format", "markdown")
	switch {
	case res.OK == 20 && res.Statuses["200"] == 20:
		// The server serves 2026-07-28: every stateless call got its result.
		if strings.Contains(out, "-32022") {
			t.Errorf("modern: the report mentions -32022 though every call succeeded:\n%s", out)
		}
	case res.Statuses["400 -32022"] == 20:
		// The server does not serve 2026-07-28: each request is refused
		// with UnsupportedProtocolVersion, and the report says so.
		if !strings.Contains(out, "-32022 (UnsupportedProtocolVersion)") {
			t.Errorf("modern: the report does not explain -32022:\n%s", out)
		}
	default:
		t.Fatalf("modern: statuses %v, ok %d; want 20 × 200 with a result, or 20 × 400 -32022", res.Statuses, res.OK)
	}
}

func TestInterrupt(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type ret struct{ res *load.Result }
	got := make(chan ret, 1)
	var done atomic.Pointer[atomic.Int64]
	progressHook = func(d *atomic.Int64) { done.Store(d) }
	defer func() { progressHook = nil }()
	pr, pw := io.Pipe()
	go func() {
		var stderr bytes.Buffer
		res, _ := run(ctx, []string{"--url", srv.URL(), "--progress=false", "call", "--duration", "1m", "--format", "markdown"}, pw, &stderr)
		pw.Close()
		got <- ret{res: res}
	}()
	testutil.WaitFor(t, 5*time.Second, func() error {
		if d := done.Load(); d == nil || d.Load() < 100 {
			return errors.New("fewer than 100 calls done")
		}
		return nil
	})
	start := time.Now()
	cancel()
	out, _ := io.ReadAll(bufio.NewReader(pr))
	r := <-got
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("run took %v to stop after the interrupt", took)
	}
	if r.res == nil || !r.res.Interrupted || r.res.Requests == 0 {
		t.Fatalf("interrupted run: %+v, want partial results marked interrupted", r.res)
	}
	if !strings.Contains(string(out), "interrupted: partial results") {
		t.Errorf("the printed results do not say they are partial:\n%s", out)
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nope"},
		{"call", "--mode", "xml"},
		{"miss", "--methods", "PUT"},
		{"miss", "--format", "csv"},
		{"storm", "--clients", "0"},
		{"miss", "extra"},
	} {
		if _, err := parse(args, io.Discard); err == nil {
			t.Errorf("parse(%q) = nil error, want one", args)
		}
	}
	c, err := parse([]string{"--count", "5", "churn"}, io.Discard)
	if err != nil || c.scenario != "churn" || c.count != 5 || c.rate != 100 {
		t.Errorf("parse(--count 5 churn) = %+v, %v; want churn, count 5, default rate 100", c, err)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "localhost": true, "127.1.2.3": true,
		"10.0.0.1": false, "example.com": false, "0.0.0.0": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestWarnOffHost(t *testing.T) {
	// No request is sent here: the warning is checked on its own.
	var stderr bytes.Buffer
	warnOffHost(&stderr, "http://192.0.2.1:9/mcp")
	if !strings.Contains(stderr.String(), "warning: 192.0.2.1 is not a loopback address") {
		t.Errorf("no off-host warning: %q", stderr.String())
	}
	stderr.Reset()
	warnOffHost(&stderr, "http://127.0.0.1:8080/mcp")
	if stderr.Len() != 0 {
		t.Errorf("warning for a loopback URL: %q", stderr.String())
	}
}
