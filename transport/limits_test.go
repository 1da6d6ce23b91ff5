package transport

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// limitTools adds two tools to ts's backend:
//
//   - stubborn {gate}: marks the gate started and waits for its release,
//     ignoring cancellation; returned(gate) is closed when it returns;
//   - honour {gate}: marks the gate started and waits for its release or
//     for its context; cancelled(gate) is closed when the context ended.
type limitTools struct {
	ts        *testServer
	mu        sync.Mutex
	returned  map[string]chan struct{}
	cancelled map[string]chan struct{}
}

func addLimitTools(ts *testServer) *limitTools {
	l := &limitTools{ts: ts, returned: map[string]chan struct{}{}, cancelled: map[string]chan struct{}{}}
	schema := json.RawMessage(`{"type":"object","properties":{"gate":{"type":"string"}}}`)
	gateOf := func(req *mcp.CallToolRequest) string {
		var a struct {
			Gate string `json:"gate"`
		}
		_ = json.Unmarshal(req.Params.Arguments, &a)
		return a.Gate
	}
	ts.srv.AddTool(&mcp.Tool{Name: "stubborn", InputSchema: schema}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		name := gateOf(req)
		defer close(l.ch(l.returned, name))
		g := ts.gate(name)
		g.markStarted()
		<-g.release
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("released")}}, nil
	})
	ts.srv.AddTool(&mcp.Tool{Name: "honour", InputSchema: schema}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		name := gateOf(req)
		g := ts.gate(name)
		g.markStarted()
		select {
		case <-g.release:
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("released")}}, nil
		case <-ctx.Done():
			close(l.ch(l.cancelled, name))
			return nil, ctx.Err()
		}
	})
	return l
}

func (l *limitTools) ch(m map[string]chan struct{}, name string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := m[name]
	if c == nil {
		c = make(chan struct{})
		m[name] = c
	}
	return c
}

// wait waits for c(name) to close.
func (l *limitTools) wait(t *testing.T, m map[string]chan struct{}, name, what string) {
	t.Helper()
	select {
	case <-l.ch(m, name):
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: %s did not happen within 5s", name, what)
	}
}

// checkBusy checks a 503 refusal: Retry-After, code -32000, id, and a
// message naming the cap.
func checkBusy(t *testing.T, r result, id, msgHas string) {
	t.Helper()
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q, body %s; want 503 with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
	}
	e := decodeError(t, r.body)
	if e.Error.Code != -32000 || string(e.ID) != id || !strings.Contains(e.Error.Message, msgHas) {
		t.Fatalf("error %s; want code -32000, id %s, message containing %q", r.body, id, msgHas)
	}
}

// checkCounts checks the Handler's in-flight counts.
func checkCounts(t *testing.T, ts *testServer, sid string, server, session int64) {
	t.Helper()
	waitFor(t, 5*time.Second, func() error {
		got := ts.h.inflight.Load()
		var gotS int64 = -1
		if s := ts.h.Sessions().Lookup(sid); s != nil {
			if sl, ok := ts.h.slots.Load(s); ok {
				gotS = sl.n.Load()
			} else {
				gotS = 0
			}
		}
		if got != server || sid != "" && gotS != session {
			return fmt.Errorf("in flight: server %d, session %d; want %d, %d", got, gotS, server, session)
		}
		return nil
	})
}

// TestInflightPerSessionCap: past MaxInflightPerSession a call gets 503,
// Retry-After and -32000 with its id; a batch is refused whole, id null;
// inline requests are never refused; once a call ends, one is admitted.
func TestInflightPerSessionCap(t *testing.T) {
	ts := newTestServer(t, &Options{MaxInflightPerSession: 4})
	addLimitTools(ts)
	sid := ts.initialize(t, "2025-03-26") // batches need 2025-03-26
	var pending []<-chan asyncResult
	for i := 1; i <= 4; i++ {
		pending = append(pending, ts.doAsync(t, http.MethodPost, sid, callBody(i, "block", fmt.Sprintf(`{"gate":"s%d"}`, i))))
		ts.gate(fmt.Sprintf("s%d", i)).waitStarted(t)
	}
	checkCounts(t, ts, sid, 4, 4)

	r := ts.do(t, http.MethodPost, sid, callBody(5, "block", `{"gate":"s5"}`))
	checkBusy(t, r, "5", "Service Unavailable: this session has 4 requests in flight (--max-inflight-per-session)")
	if r := ts.do(t, http.MethodPost, sid, `{"jsonrpc":"2.0","id":6,"method":"ping"}`); r.status != http.StatusOK {
		t.Fatalf("ping at the cap: status %d, body %s", r.status, r.body)
	}
	// Another session is not affected.
	other := ts.initialize(t, "2025-11-25")
	if r := ts.do(t, http.MethodPost, other, callBody(7, "echo", `{"message":"hi"}`)); r.status != http.StatusOK {
		t.Fatalf("a call of another session: status %d, body %s", r.status, r.body)
	}

	// Make room for one: a batch of two is still refused, whole.
	ts.gate("s1").Release()
	if r := await(t, pending[0]); r.status != http.StatusOK || !strings.Contains(string(r.body), "released") {
		t.Fatalf("released call: status %d, body %s", r.status, r.body)
	}
	checkCounts(t, ts, sid, 3, 3)
	batch := "[" + callBody(8, "block", `{"gate":"b8"}`) + "," + callBody(9, "block", `{"gate":"b9"}`) + `,{"jsonrpc":"2.0","id":10,"method":"ping"}]`
	checkBusy(t, ts.do(t, http.MethodPost, sid, batch), "null", "--max-inflight-per-session")
	checkCounts(t, ts, sid, 3, 3)
	if r := ts.do(t, http.MethodPost, sid, callBody(11, "echo", `{"message":"in"}`)); r.status != http.StatusOK || !strings.Contains(string(r.body), `"in"`) {
		t.Fatalf("call after one ended: status %d, body %s", r.status, r.body)
	}
	for i := 2; i <= 4; i++ {
		ts.gate(fmt.Sprintf("s%d", i)).Release()
		await(t, pending[i-1])
	}
	checkCounts(t, ts, sid, 0, 0)
}

// TestInflightCap: MaxInflight counts over sessions.
func TestInflightCap(t *testing.T) {
	ts := newTestServer(t, &Options{MaxInflight: 3})
	a := ts.initialize(t, "2025-11-25")
	b := ts.initialize(t, "2025-11-25")
	var pending []<-chan asyncResult
	for i, sid := range []string{a, a, b} {
		pending = append(pending, ts.doAsync(t, http.MethodPost, sid, callBody(i, "block", fmt.Sprintf(`{"gate":"g%d"}`, i))))
		ts.gate(fmt.Sprintf("g%d", i)).waitStarted(t)
	}
	checkCounts(t, ts, b, 3, 1)
	for _, sid := range []string{a, b} {
		checkBusy(t, ts.do(t, http.MethodPost, sid, callBody(9, "notify", `{"count":0}`)), "9",
			"Service Unavailable: the server has 3 requests in flight (--max-inflight)")
		if r := ts.do(t, http.MethodPost, sid, `{"jsonrpc":"2.0","id":6,"method":"ping"}`); r.status != http.StatusOK {
			t.Fatalf("ping at the cap: status %d, body %s", r.status, r.body)
		}
		// echo is an inline tool (mcp.Tool.Inline): it runs on the
		// request's goroutine, outside the caps.
		if r := ts.do(t, http.MethodPost, sid, callBody(7, "echo", `{"message":"x"}`)); r.status != http.StatusOK {
			t.Fatalf("inline tool at the cap: status %d, body %s", r.status, r.body)
		}
	}
	checkCounts(t, ts, a, 3, 2)
	ts.gate("g0").Release()
	await(t, pending[0])
	checkCounts(t, ts, a, 2, 1) // the answer may reach the client before the slot is given back
	if r := ts.do(t, http.MethodPost, b, callBody(10, "echo", `{"message":"x"}`)); r.status != http.StatusOK {
		t.Fatalf("call after one ended: status %d, body %s", r.status, r.body)
	}
	ts.gate("g1").Release()
	ts.gate("g2").Release()
	await(t, pending[1])
	await(t, pending[2])
	checkCounts(t, ts, a, 0, 0)
}

// responseTo finds the response to id in a POST's answer (JSON, or an SSE
// stream read to its end) and checks there is exactly one.
func responseTo(t *testing.T, r result, id string) message {
	t.Helper()
	var found []message
	if mediaType(r.header.Get("Content-Type")) == ctSSEValue {
		for _, e := range newSSEReader(strings.NewReader(string(r.body))).readAll(t) {
			if e.Data == "" {
				continue
			}
			if m := decodeMessage(t, e.Data); m.isResponse(id) {
				found = append(found, m)
			}
		}
	} else if m := decodeMessage(t, string(r.body)); m.isResponse(id) {
		found = append(found, m)
	}
	if len(found) != 1 {
		t.Fatalf("%d responses to id %s in %s; want 1", len(found), id, r.body)
	}
	return found[0]
}

// TestCallTimeout: past CallTimeout a call that honours cancellation and
// one that ignores it are both answered with the timeout error, on JSON
// and on SSE; the honouring handler saw its context cancelled; the
// ignoring one's late answer is dropped, and nothing is released twice.
func TestCallTimeout(t *testing.T) {
	ts := newTestServer(t, &Options{CallTimeout: 200 * time.Millisecond})
	l := addLimitTools(ts)
	sid := ts.initialize(t, "2025-11-25")
	for _, mode := range []struct{ name, accept string }{
		{"json", ctJSONValue},
		{"sse", ctSSEValue},
	} {
		for i, tool := range []string{"honour", "stubborn"} {
			gate := mode.name + "-" + tool
			t.Run(gate, func(t *testing.T) {
				id := fmt.Sprint(i + 1)
				start := time.Now()
				ch := ts.doAsync(t, http.MethodPost, sid, callBody(i+1, tool, `{"gate":"`+gate+`"}`), "Accept", mode.accept)
				r := await(t, ch)
				if took := time.Since(start); took < 200*time.Millisecond {
					t.Errorf("answered after %v, before the deadline", took)
				}
				if r.status != http.StatusOK || mediaType(r.header.Get("Content-Type")) != mode.accept {
					t.Fatalf("status %d, Content-Type %q; want 200 %s", r.status, r.header.Get("Content-Type"), mode.accept)
				}
				m := responseTo(t, r, id)
				var e struct {
					Code    int64  `json:"code"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal(m.Error, &e); err != nil || e.Code != -32000 ||
					e.Message != "Request timed out after 200ms (--call-timeout); it was cancelled" {
					t.Fatalf("response %s %s; want the timeout error", m.Error, m.Result)
				}
				if tool == "honour" {
					l.wait(t, l.cancelled, gate, "the handler's cancellation")
				} else {
					checkCounts(t, ts, sid, 0, 0) // released though the handler still runs
					ts.gate(gate).Release()
					l.wait(t, l.returned, gate, "the handler's return")
				}
				checkCounts(t, ts, sid, 0, 0)
			})
		}
	}
	// A call that ends before its deadline is answered as usual.
	if r := ts.do(t, http.MethodPost, sid, callBody(9, "echo", `{"message":"quick"}`)); !strings.Contains(string(r.body), `"quick"`) {
		t.Fatalf("quick call: status %d, body %s", r.status, r.body)
	}
}

// TestCallTimeoutRace: with a deadline close to the calls' own duration,
// each POST gets exactly one response (the result or the timeout error),
// never both or none.
func TestCallTimeoutRace(t *testing.T) {
	ts := newTestServer(t, &Options{CallTimeout: 15 * time.Millisecond})
	sid := ts.initialize(t, "2025-11-25")
	const n = 30
	chs := make([]<-chan asyncResult, n)
	for i := range chs {
		// progress: two steps i ms apart, each sent first (so SSE).
		chs[i] = ts.doAsync(t, http.MethodPost, sid, callBody(i, "progress", fmt.Sprintf(`{"steps":2,"intervalMs":%d}`, i)))
	}
	won := map[bool]int{}
	for i, ch := range chs {
		r := await(t, ch)
		m := responseTo(t, r, fmt.Sprint(i))
		won[m.Result != nil]++
	}
	t.Logf("results %d, timeouts %d", won[true], won[false])
	checkCounts(t, ts, sid, 0, 0)
}

// heldGoroutines counts the goroutines that are not idle in a worker pool
// (the transport's call workers and fasthttp's connection workers, which
// exit after 10s idle).
func heldGoroutines() int {
	n, _ := heldStacks()
	return n
}

// heldStacks is heldGoroutines with the top frame of each.
func heldStacks() (int, map[string]int) {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	tops := map[string]int{}
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		top := ""
		for _, line := range strings.Split(g, "\n")[1:] {
			if !strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, "runtime.") {
				top = line
				break
			}
		}
		if strings.Contains(top, "transport.(*workers).loop") || strings.Contains(top, "fasthttp.(*workerPool).workerFunc") {
			continue
		}
		tops[top]++
		n++
	}
	return n, tops
}

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestAbandonedCallsReleased is issue #14's regression test: long calls
// whose clients hung up (JSON and SSE answers) hold goroutines and
// descriptors until their deadline, and no longer: then both return to
// their baseline.
func TestAbandonedCallsReleased(t *testing.T) {
	ts := newTestServer(t, &Options{CallTimeout: 500 * time.Millisecond})
	sid := ts.initialize(t, "2025-11-25")
	// A first call on a worker starts the deadline sweeper
	// (expireFlights), which lives as long as the Handler: it belongs in
	// the baseline. echo is inline (no worker, no sweeper); progress is
	// not.
	if r := ts.do(t, http.MethodPost, sid, callBody(99, "progress", `{"steps":1,"intervalMs":0}`), "Accept", ctJSONValue); r.status != http.StatusOK {
		t.Fatalf("warm-up call: status %d, body %s", r.status, r.body)
	}
	ts.client.CloseIdleConnections()
	addr := strings.TrimSuffix(strings.TrimPrefix(ts.url, "http://"), DefaultPath)
	var baseG, baseFD int
	waitFor(t, 5*time.Second, func() error { // settle: the client's connections close
		g, fd := heldGoroutines(), openFDs(t)
		if g != baseG || fd != baseFD {
			baseG, baseFD = g, fd
			return fmt.Errorf("still settling: %d goroutines, %d descriptors", g, fd)
		}
		return nil
	})
	const n = 20
	for i := range n {
		body := callBody(i, "progress", `{"steps":100,"intervalMs":10000}`)
		accept := ctJSONValue
		if i%2 == 1 {
			accept = acceptBoth // the first progress message turns it into SSE
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: %s\r\nMcp-Session-Id: %s\r\nContent-Length: %d\r\n\r\n%s",
			DefaultPath, addr, accept, sid, len(body), body)
		defer c.Close()
		waitFor(t, 5*time.Second, func() error {
			if got := ts.h.inflight.Load(); got != int64(i+1) {
				return fmt.Errorf("%d calls in flight, want %d", got, i+1)
			}
			return nil
		})
		c.Close() // the client hangs up: not a cancellation
	}
	if g := heldGoroutines(); g < baseG+n {
		t.Fatalf("%d goroutines with %d calls in flight, baseline %d: the count does not see them", g, n, baseG)
	}
	waitFor(t, 5*time.Second, func() error {
		g, fd := heldGoroutines(), openFDs(t)
		if g > baseG || fd > baseFD || ts.h.inflight.Load() != 0 {
			_, tops := heldStacks()
			return fmt.Errorf("%d goroutines, %d descriptors, %d calls in flight; baseline %d, %d, 0; held: %v", g, fd, ts.h.inflight.Load(), baseG, baseFD, tops)
		}
		return nil
	})
}

// TestIdleDespiteStuckCall: a session whose only activity is a call past
// its deadline idles out, although the call's handler ignores
// cancellation and is still blocked.
func TestIdleDespiteStuckCall(t *testing.T) {
	opts := &Options{CallTimeout: 200 * time.Millisecond}
	opts.Sessions.IdleTimeout = 50 * time.Millisecond
	ts := newTestServer(t, opts)
	l := addLimitTools(ts)
	sid := ts.initialize(t, "2025-11-25")
	ch := ts.doAsync(t, http.MethodPost, sid, callBody(1, "stubborn", `{"gate":"stuck"}`), "Accept", ctJSONValue)
	g := ts.gate("stuck")
	g.waitStarted(t)
	if n := ts.h.Sessions().ExpireIdle(time.Now().Add(time.Hour)); n != 0 {
		t.Fatal("a session with a call in flight expired")
	}
	r := await(t, ch)
	if e := decodeError(t, r.body); !strings.Contains(e.Error.Message, "timed out") {
		t.Fatalf("answer %s; want the timeout error", r.body)
	}
	waitFor(t, 5*time.Second, func() error {
		ts.h.Sessions().ExpireIdle(time.Now())
		if ts.h.Sessions().Lookup(sid) != nil {
			return fmt.Errorf("session %s still live", sid)
		}
		return nil
	})
	select {
	case <-l.ch(l.returned, "stuck"):
		t.Fatal("the handler returned; it should still be blocked")
	default:
	}
	g.Release()
	l.wait(t, l.returned, "stuck", "the handler's return")
	checkCounts(t, ts, "", 0, 0)
	if n := ts.h.slots.Size(); n != 0 {
		t.Fatalf("%d per-session counts left after the session ended", n)
	}
}

// modernCall sends a 2026-07-28 tools/call to ts.
func (ts *testServer) modernCall(t *testing.T, id int, tool, args, accept string) <-chan asyncResult {
	t.Helper()
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s,`+
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`, id, tool, args)
	return ts.doAsync(t, http.MethodPost, "", body, "Accept", accept,
		"MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", tool)
}

// TestModernLimits: 2026-07-28 requests count against MaxInflight (with
// sessions' calls) and are cancelled at CallTimeout.
func TestModernLimits(t *testing.T) {
	t.Run("cap", func(t *testing.T) {
		ts := newTestServer(t, &Options{MaxInflight: 2})
		sid := ts.initialize(t, "2025-11-25")
		a := ts.modernCall(t, 1, "block", `{"gate":"m1"}`, acceptBoth)
		ts.gate("m1").waitStarted(t)
		b := ts.doAsync(t, http.MethodPost, sid, callBody(2, "block", `{"gate":"m2"}`))
		ts.gate("m2").waitStarted(t)
		checkBusy(t, await(t, ts.modernCall(t, 3, "notify", `{"count":0}`, acceptBoth)), "3", "--max-inflight")
		checkBusy(t, ts.do(t, http.MethodPost, sid, callBody(4, "notify", `{"count":0}`)), "4", "--max-inflight")
		if r := await(t, ts.modernCall(t, 7, "echo", `{"message":"x"}`, acceptBoth)); r.status != http.StatusOK {
			t.Fatalf("inline tool at the cap: status %d, body %s", r.status, r.body)
		}
		// tools/list is answered inline: never refused.
		list := ts.do(t, http.MethodPost, "", `{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`,
			"MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/list")
		if list.status != http.StatusOK {
			t.Fatalf("tools/list at the cap: status %d, body %s", list.status, list.body)
		}
		ts.gate("m1").Release()
		await(t, a)
		if r := await(t, ts.modernCall(t, 6, "echo", `{"message":"in"}`, ctJSONValue)); r.status != http.StatusOK || !strings.Contains(string(r.body), `"in"`) {
			t.Fatalf("call after one ended: status %d, body %s", r.status, r.body)
		}
		ts.gate("m2").Release()
		await(t, b)
		checkCounts(t, ts, "", 0, 0)
	})
	t.Run("timeout", func(t *testing.T) {
		ts := newTestServer(t, &Options{CallTimeout: 200 * time.Millisecond})
		l := addLimitTools(ts)
		for i, tool := range []string{"honour", "stubborn"} {
			for j, accept := range []string{ctJSONValue, ctSSEValue} {
				gate := fmt.Sprintf("%s-%d", tool, j)
				id := 10*i + j
				r := await(t, ts.modernCall(t, id, tool, `{"gate":"`+gate+`"}`, accept))
				// Nothing is sent first: JSON, or SSE for a client that takes only that.
				if ct := mediaType(r.header.Get("Content-Type")); r.status != http.StatusOK || ct != ctJSONValue && ct != ctSSEValue {
					t.Fatalf("%s: status %d, Content-Type %q, body %s", gate, r.status, ct, r.body)
				}
				m := responseTo(t, r, fmt.Sprint(id))
				if !strings.Contains(string(m.Error), "Request timed out after 200ms (--call-timeout)") {
					t.Fatalf("%s: response %s; want the timeout error", gate, r.body)
				}
				if tool == "honour" {
					l.wait(t, l.cancelled, gate, "the handler's cancellation")
				} else {
					ts.gate(gate).Release()
					l.wait(t, l.returned, gate, "the handler's return")
				}
				checkCounts(t, ts, "", 0, 0)
			}
		}
	})
}

// TestInlineToolSends: an inline tool (mcp.Tool.Inline) runs on the
// request's goroutine, so what it sends before its result cannot go out
// as it goes: the POST is answered as an SSE stream holding its messages,
// in order, then its response. With JSON only, the messages go to the
// GET stream and the response is JSON, as for any call.
func TestInlineToolSends(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, "2025-11-25")
	r := ts.do(t, http.MethodPost, sid, callBody(1, "inline_log", `{}`))
	if r.status != http.StatusOK || mediaType(r.header.Get("Content-Type")) != ctSSEValue {
		t.Fatalf("status %d, Content-Type %q, body %s; want 200 text/event-stream", r.status, r.header.Get("Content-Type"), r.body)
	}
	var got []string
	for _, e := range newSSEReader(strings.NewReader(string(r.body))).readAll(t) {
		if e.Data == "" {
			continue
		}
		var m message
		if err := json.Unmarshal([]byte(e.Data), &m); err != nil {
			t.Fatalf("event %q: %v", e.Data, err)
		}
		if m.Method != "" {
			got = append(got, m.Method+" "+string(m.Params.Data))
		} else {
			got = append(got, "response "+string(m.ID)+" "+string(m.Result))
		}
	}
	want := []string{
		`notifications/message {"n":1}`,
		`notifications/message {"n":2}`,
		`response 1 {"content":[{"type":"text","text":"logged"}]}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stream:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	j := ts.do(t, http.MethodPost, sid, callBody(2, "inline_log", `{}`), "Accept", ctJSONValue)
	if j.status != http.StatusOK || !strings.Contains(string(j.body), `"logged"`) {
		t.Fatalf("JSON only: status %d, body %s", j.status, j.body)
	}
}
