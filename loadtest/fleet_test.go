package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/loadtest/load"
)

// binDir holds the mcpfiber binary the tests build (see mcpfiberBinary);
// TestMain removes it.
var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// mcpfiberBinary builds the mcpfiber command from the module once per
// test binary and returns its path.
func mcpfiberBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the mcpfiber binary")
	}
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "loadtest-mcpfiber-"); binErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "mcpfiber"), "github.com/mcpfiber/mcpfiber").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "mcpfiber")
}

// nodeURLs returns n endpoints on free loopback ports.
func nodeURLs(t *testing.T, n int) []string {
	urls := make([]string, n)
	for i := range urls {
		urls[i] = "http://" + freeAddr(t) + "/mcp"
	}
	return urls
}

// runFleetCmd runs scenario (rolling or kill) against len(urls) mcpfiber
// nodes started with serverArgs, 50 clients at 300 calls/s, 300ms
// before and after the event. It returns the result, stdout (JSON lines,
// then Markdown) and the command's error.
func runFleetCmd(t *testing.T, scenario string, urls []string, serverArgs string) (*load.Result, string, error) {
	t.Helper()
	bin := mcpfiberBinary(t)
	var stdout, stderr bytes.Buffer
	args := []string{"--url", strings.Join(urls, ","), "--progress=false", scenario,
		"--clients", "50", "--rate", "300", "--duration", "300ms", "--window", "100ms",
		"--server-cmd", bin + " --addr 127.0.0.1:{port} --log-level error --drain-window 50ms " + serverArgs}
	res, err := run(context.Background(), args, &stdout, &stderr)
	if res == nil || res.Fleet == nil {
		t.Fatalf("run %q: no fleet result (error %v)\nstderr: %s", args, err, stderr.String())
	}
	return res, stdout.String(), err
}

// checkFleetTotals checks what every rolling or kill run must add up to,
// whatever the nodes do with the sessions.
func checkFleetTotals(t *testing.T, res *load.Result, nodes int, stdout string) {
	t.Helper()
	f := res.Fleet
	if f.Nodes != nodes || f.Clients != 50 || f.Established < 45 {
		t.Errorf("nodes %d, clients %d, established %d; want %d, 50, at least 45", f.Nodes, f.Clients, f.Established, nodes)
	}
	if f.Unavailable > f.Failovers {
		t.Errorf("503s retried elsewhere %d > failovers %d: they are among them", f.Unavailable, f.Failovers)
	}
	if f.Calls != f.OK+f.Failed+f.Lost {
		t.Errorf("calls %d != ok %d + failed %d + lost %d", f.Calls, f.OK, f.Failed, f.Lost)
	}
	if f.FinalOK+f.FinalFailed != f.Established || f.Calls != res.Requests+int64(f.Established) {
		t.Errorf("final calls %d ok + %d failed, calls %d, paced %d; want one final call per established client (%d) on top of the paced ones",
			f.FinalOK, f.FinalFailed, f.Calls, res.Requests, f.Established)
	}
	if res.Requests < 150 || res.Requests != res.OK+res.Errors {
		t.Errorf("paced calls %d (ok %d, errors %d): want at least 150 (300/s for 2×300ms) and ops = ok + errors", res.Requests, res.OK, res.Errors)
	}
	var statuses int64
	for _, n := range res.Statuses {
		statuses += n
	}
	if statuses != res.Requests {
		t.Errorf("statuses %v add up to %d, paced calls are %d", res.Statuses, statuses, res.Requests)
	}
	if f.EventCalls == 0 || f.EventP99Ms < f.EventP50Ms {
		t.Errorf("event latency: %d calls, p50 %.3f, p99 %.3f", f.EventCalls, f.EventP50Ms, f.EventP99Ms)
	}
	for _, e := range f.Restarts {
		if e.ReadyMs <= 0 || e.ExitMs <= 0 || e.AtS <= 0 {
			t.Errorf("restart %+v: times not measured", e)
		}
	}
	// The JSON summary carries the fleet, rounded as every figure is;
	// the Markdown says whether each target was met.
	var sum struct {
		Type  string            `json:"type"`
		Fleet *load.FleetResult `json:"fleet"`
	}
	var summary string
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, `{"type":"summary"`) {
			summary = line
		}
	}
	if err := json.Unmarshal([]byte(summary), &sum); err != nil || sum.Fleet == nil || sum.Fleet.Calls != f.Calls || len(sum.Fleet.Targets) != len(f.Targets) {
		t.Errorf("JSON summary %q (%v): want the fleet with its calls and targets", summary, err)
	}
	dec := json.NewDecoder(strings.NewReader(summary))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil {
		walkNumbers(v, "", func(path string, n json.Number) {
			if i := strings.IndexByte(string(n), '.'); i >= 0 && len(n)-i-1 > 3 || strings.ContainsAny(string(n), "eE") {
				t.Errorf("%s = %s, want at most 3 decimals", path, n)
			}
		})
	}
	for _, tg := range f.Targets {
		met := "met"
		if !tg.Met {
			met = "NOT met"
		}
		if line := fmt.Sprintf("- %s: %s (want %s): %s\n", tg.Name, tg.Got, tg.Want, met); !strings.Contains(stdout, line) {
			t.Errorf("the report lacks %q:\n%s", line, stdout)
		}
	}
}

// TestFleetInMemory runs rolling and kill against in-memory mcpfiber
// nodes, which share no sessions: a session's requests land on every
// node in turn, so most calls get 404 and re-initialize, before, during
// and after the event. The targets are missed, the command says so and
// fails, and the counts add up.
func TestFleetInMemory(t *testing.T) {
	t.Run("scenario=rolling", func(t *testing.T) {
		res, out, err := runFleetCmd(t, "rolling", nodeURLs(t, 3), "")
		if err == nil || !strings.Contains(err.Error(), "rolling: target missed: re-initializations") {
			t.Errorf("error %v, want the targets missed", err)
		}
		checkFleetTotals(t, res, 3, out)
		f := res.Fleet
		if f.Reinits == 0 || f.NotFound == 0 {
			t.Errorf("re-initializations %d, 404s %d; want both > 0 with nodes that share no sessions", f.Reinits, f.NotFound)
		}
		if len(f.Restarts) != 3 {
			t.Fatalf("restarts %+v, want the 3 nodes", f.Restarts)
		}
		for i, e := range f.Restarts {
			if e.Node != i || e.Signal != "TERM" {
				t.Errorf("restart %d: %+v, want node %d by SIGTERM", i, e, i)
			}
		}
		if len(f.Targets) != 3 || f.Targets[0].Met || f.Targets[1].Met {
			t.Errorf("targets %+v, want 3, re-initializations and 404s missed", f.Targets)
		}
	})
	t.Run("scenario=kill", func(t *testing.T) {
		res, out, err := runFleetCmd(t, "kill", nodeURLs(t, 3), "")
		if err == nil || !strings.Contains(err.Error(), "kill: target missed") {
			t.Errorf("error %v, want the targets missed", err)
		}
		checkFleetTotals(t, res, 3, out)
		f := res.Fleet
		if f.Reinits == 0 || f.NotFound == 0 {
			t.Errorf("re-initializations %d, 404s %d; want both > 0", f.Reinits, f.NotFound)
		}
		if len(f.Restarts) != 1 || f.Restarts[0].Signal != "KILL" || f.Restarts[0].DownMs < 300 {
			t.Errorf("restarts %+v, want node 0 killed and down for 300ms", f.Restarts)
		}
		// Node 0 was down for 300ms at 300 calls/s: its turns went to
		// the next node.
		if f.Failovers == 0 {
			t.Errorf("no failovers while node 0 was down")
		}
		if f.FirstAfter != int64(f.Established) || f.FirstAfterFailed > f.FirstAfter {
			t.Errorf("next call after the kill measured for %d clients (%d failed), want every established one (%d)", f.FirstAfter, f.FirstAfterFailed, f.Established)
		}
		if len(f.Targets) != 4 || f.Targets[0].Met {
			t.Errorf("targets %+v, want 4, re-initializations missed", f.Targets)
		}
	})
	// One node: the sessions are lost once, at its restart, and every
	// client re-initializes at least once (its final call comes after).
	t.Run("scenario=rolling/nodes=1", func(t *testing.T) {
		res, out, _ := runFleetCmd(t, "rolling", nodeURLs(t, 1), "")
		checkFleetTotals(t, res, 1, out)
		f := res.Fleet
		if f.Reinits < int64(f.Established) || f.NotFound < int64(f.Established) || f.Failovers != 0 {
			t.Errorf("re-initializations %d, 404s %d, failovers %d; want at least one 404 and re-initialization per client (%d), no failover",
				f.Reinits, f.NotFound, f.Failovers, f.Established)
		}
		if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, "one node:") }) {
			t.Errorf("notes %q: want the one-node remark", res.Notes)
		}
	})
}

func TestParseURLs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"miss"}, []string{defaultURL}},
		{[]string{"--url", "http://a/mcp", "miss"}, []string{"http://a/mcp"}},
		{[]string{"--url", "http://a/mcp,http://b/mcp", "--url", " http://c/mcp ", "miss"}, []string{"http://a/mcp", "http://b/mcp", "http://c/mcp"}},
	} {
		c, err := parse(tc.args, io.Discard)
		if err != nil || !slices.Equal(c.urls, tc.want) || c.url != tc.want[0] {
			t.Errorf("parse(%q): urls %q, url %q, %v; want %q", tc.args, c.urls, c.url, err, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rolling"}, "--server-cmd is required"},
		{[]string{"kill", "--url", "http://a:1/mcp,http://a:2/mcp", "--server-cmd", "srv --addr 127.0.0.1:9"}, "needs {addr}, {host} or {port}"},
		{[]string{"kill", "--url", "http://a:1/mcp,http://a:2/mcp", "--server-cmd", "srv {addr}", "--victim", "2"}, "--victim 2"},
	} {
		if _, err := parse(tc.args, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parse(%q) = %v, want an error with %q", tc.args, err, tc.want)
		}
	}
	if got := expandCmd("srv --addr {addr} --host {host} --port {port}", "127.0.0.1:8081"); got != "srv --addr 127.0.0.1:8081 --host 127.0.0.1 --port 8081" {
		t.Errorf("expandCmd = %q", got)
	}
	if got := healthURL("https://h:8443/mcp?x=1", "/healthz"); got != "https://h:8443/healthz" {
		t.Errorf("healthURL = %q, want https://h:8443/healthz", got)
	}
}

// TestFleetRedis runs rolling and kill against mcpfiber nodes that keep
// their sessions in a Redis of the test's own: every node serves every
// session, so the targets are (nearly) met where in-memory nodes miss
// them by thousands.
//
// The targets are the issue's, exactly: no re-initialization, no 404,
// no call lost or failed. (Before the transport answered a draining
// node's live sessions with 503 and closed its connections after each
// response, about one run in ten lost a call or got a 404 here.)
func TestFleetRedis(t *testing.T) {
	bin := mcpfiberBinary(t)
	if help, _ := exec.Command(bin, "-h").CombinedOutput(); !strings.Contains(string(help), "-redis-url") {
		t.Skip("this mcpfiber has no --redis-url")
	}
	redisURL := testutil.StartRedis(t).URL()
	const slack = 0
	t.Run("scenario=rolling", func(t *testing.T) {
		res, out, err := runFleetCmd(t, "rolling", nodeURLs(t, 3), "--redis-url "+redisURL)
		checkFleetTotals(t, res, 3, out)
		f := res.Fleet
		t.Logf("rolling on Redis: %v; re-initializations %d, 404s %d, failed %d, lost in flight %d, failovers %d (503: %d)",
			err, f.Reinits, f.NotFound, f.Failed, f.Lost, f.Failovers, f.Unavailable)
		if f.Established != 50 || f.Reinits > slack || f.NotFound > slack || f.Lost > slack || f.Failed != 0 {
			t.Errorf("rolling on Redis: established %d, re-initializations %d, 404s %d, failed %d, lost %d; want 50, at most %d, %d, 0, %d (statuses %v)",
				f.Established, f.Reinits, f.NotFound, f.Failed, f.Lost, slack, slack, slack, res.Statuses)
		}
		if slack == 0 && err != nil {
			t.Errorf("rolling on Redis: %v", err)
		}
	})
	t.Run("scenario=kill", func(t *testing.T) {
		res, out, err := runFleetCmd(t, "kill", nodeURLs(t, 3), "--redis-url "+redisURL)
		checkFleetTotals(t, res, 3, out)
		f := res.Fleet
		if err != nil || f.Reinits != 0 || f.FirstAfterFailed != 0 || f.Failed != 0 || f.Established != 50 {
			t.Errorf("kill on Redis: %v; established %d, re-initializations %d, next calls failed %d, failed %d (lost in flight %d); want nil and 50, 0, 0, 0 (statuses %v)",
				err, f.Established, f.Reinits, f.FirstAfterFailed, f.Failed, f.Lost, res.Statuses)
		}
	})
}
