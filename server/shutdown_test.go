package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/server"
	"github.com/mcpfiber/mcpfiber/transport"
)

// TestShutdownDrain follows server.Server.Shutdown's ordered procedure
// with two GET streams open and a slow tool call in flight:
//
//   - draining: initialize and new GET streams get 503 with Retry-After,
//     and /healthz, on a new connection (the listener stays open while
//     the transport drains, for a load balancer to see it), answers 503;
//   - each GET stream gets an SSE retry field (RetryHint plus a jitter
//     within DrainWindow) and then ends, within DrainWindow;
//   - the tool call runs to completion and its SSE stream carries the
//     final response;
//   - then the listener closes, and Shutdown returns nil at the first of
//     fasthttp's 100ms looks for open connections, the session map is
//     empty, and no goroutine is left (synctest.Test fails otherwise).
//
// It runs in a synctest bubble on an in-memory listener, so the timings
// are exact in fake time. The MCP requests made while draining are made
// in-process, on the Handler's ServeFastHTTP, the same code the Fiber
// route runs.
func TestShutdownDrain(t *testing.T) { inBubble(t, testShutdownDrain) }

func testShutdownDrain(t *testing.T) {
	const (
		drainWindow = 300 * time.Millisecond
		gracePeriod = 5 * time.Second
		version     = "2025-11-25"
		// The slow call: 5 steps 90ms apart, so it ends 360ms into the
		// shutdown; the listener closes then, and Shutdown returns at
		// fasthttp's first 100ms look for open connections.
		steps    = 5
		interval = 90 * time.Millisecond
		callEnd  = (steps - 1) * interval
		shutEnd  = callEnd + 100*time.Millisecond
	)
	srv, served, hc := startBubbleServer(t, server.Config{DrainWindow: drainWindow, GracePeriod: gracePeriod})
	h := srv.Handler()
	url := srv.URL()

	// Two sessions, each with its GET stream open; the priming event
	// (2025-11-25) is read first.
	type getStream struct {
		sid  string
		done <-chan streamResult
	}
	var gets []getStream
	for range 2 {
		sid := rawInitialize(t, hc, url, version)
		resp := rawGET(t, hc, url, sid, version)
		r := newSSEReader(resp.Body)
		ev, err := r.Next()
		if err != nil || !ev.HasID || !ev.HasRetry || ev.Data != "" || ev.Retry != transport.DefaultRetryHint {
			t.Fatalf("GET priming event = %+v, %v; want an id, retry %v and empty data", ev, err, transport.DefaultRetryHint)
		}
		gets = append(gets, getStream{sid, readAll(r, resp.Body)})
	}

	// The slow call on the first session, its progress on the POST's SSE
	// stream. It is in flight once its first progress notification came.
	resp := rawPOST(t, hc, url, gets[0].sid, version,
		fmt.Sprintf(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"progress","arguments":{"steps":%d,"intervalMs":%d},"_meta":{"progressToken":"slow"}}}`, steps, interval.Milliseconds()))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("tools/call: %d %q, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	callReader := newSSEReader(resp.Body)
	for {
		ev, err := callReader.Next()
		if err != nil {
			t.Fatalf("tools/call stream before shutdown: %v", err)
		}
		if strings.Contains(ev.Data, `"notifications/progress"`) {
			break
		}
	}
	call := readAll(callReader, resp.Body)
	if n := h.Sessions().Len(); n != 2 {
		t.Fatalf("Sessions().Len() = %d before shutdown, want 2", n)
	}
	// Before: /healthz is 200 and counts the sessions.
	hresp, err := hc.Get("http://" + srv.Addr().String() + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	hbody, _ := io.ReadAll(hresp.Body)
	hresp.Body.Close()
	if hresp.StatusCode != http.StatusOK || string(hbody) != `{"sessions":2,"status":"ok"}` {
		t.Errorf("GET /healthz before shutdown = %d %s, want 200 {\"sessions\":2,\"status\":\"ok\"}", hresp.StatusCode, hbody)
	}

	start := time.Now()
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(context.Background()) }() // owner: the test; exit: Shutdown returns
	synctest.Wait()

	// Draining: /healthz answers 503 on a new connection, for a load
	// balancer to take the node out.
	if !h.Draining() {
		t.Errorf("Handler().Draining() = false after Shutdown began")
	}
	hresp, err = hc.Get("http://" + srv.Addr().String() + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz on a new connection while draining: %v", err)
	}
	hbody, _ = io.ReadAll(hresp.Body)
	hresp.Body.Close()
	if hresp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(hbody), `"draining"`) {
		t.Errorf("GET /healthz while draining = %d %s, want 503 draining", hresp.StatusCode, hbody)
	}
	// initialize gets 503 with Retry-After and a JSON-RPC error for its id.
	status, retryAfter, body := serveInProcess(h, "POST", "", `{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"late","version":"0"}}}`)
	if status != http.StatusServiceUnavailable || retryAfter != "5" || !strings.Contains(body, `"id":9`) || !strings.Contains(body, `"error"`) {
		t.Errorf("initialize while draining = %d, Retry-After %q, %s; want 503, 5, a JSON-RPC error for id 9", status, retryAfter, body)
	}
	// A new GET stream gets 503 too: its session lives until the drain
	// ends.
	status, retryAfter, body = serveInProcess(h, "GET", gets[1].sid, "")
	if status != http.StatusServiceUnavailable || retryAfter != "5" {
		t.Errorf("GET while draining = %d, Retry-After %q, %s; want 503, 5", status, retryAfter, body)
	}

	// Each GET stream: one retry-only event, then the end of the body,
	// within the drain window.
	for i, g := range gets {
		res := <-g.done
		if res.Err != io.EOF {
			t.Errorf("GET stream %d ended with %v, want a clean end (EOF)", i, res.Err)
		}
		if len(res.Events) != 1 {
			t.Fatalf("GET stream %d: %d events after priming, want 1 (retry): %+v", i, len(res.Events), res.Events)
		}
		ev := res.Events[0]
		if !ev.HasRetry || ev.HasData || ev.HasID || ev.Retry < transport.DefaultRetryHint || ev.Retry >= transport.DefaultRetryHint+drainWindow {
			t.Errorf("GET stream %d drain event = %+v, want only a retry field in [%v, %v)", i, ev, transport.DefaultRetryHint, transport.DefaultRetryHint+drainWindow)
		}
		if d := res.End.Sub(start); d >= drainWindow {
			t.Errorf("GET stream %d ended %v after Shutdown began, want within the drain window %v", i, d, drainWindow)
		}
	}

	// The tool call: the remaining progress, then its result, then the
	// end, when its last step is done.
	res := <-call
	if res.Err != io.EOF {
		t.Errorf("tools/call stream ended with %v, want a clean end (EOF)", res.Err)
	}
	checkSlowCall(t, res.Events, steps)
	if d := res.End.Sub(start); d != callEnd {
		t.Errorf("the tool call ended %v after Shutdown began, want %v", d, callEnd)
	}

	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown = %v, want nil", err)
	}
	if d := time.Since(start); d != shutEnd {
		t.Errorf("Shutdown returned after %v, want %v (the first 100ms look after the call ended, and the listener closed, at %v)", d, shutEnd, callEnd)
	}
	if n := h.Sessions().Len(); n != 0 {
		t.Errorf("Sessions().Len() = %d after Shutdown, want 0", n)
	}
	if err := served.wait(t, time.Second); err != nil {
		t.Errorf("Serve = %v after Shutdown, want nil", err)
	}

	// A second Shutdown changes nothing.
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Logf("second Shutdown = %v", err)
	}
}

// checkSlowCall checks the events of the progress call after its first
// progress notification: the other steps-1, then its result.
func checkSlowCall(t *testing.T, evs []sseEvent, steps int) {
	t.Helper()
	var final map[string]any
	progress := 1
	for _, ev := range evs {
		if !ev.HasData || ev.Data == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
			t.Fatalf("tools/call event %q: %v", ev.Data, err)
		}
		if m["method"] == "notifications/progress" {
			progress++
		}
		if _, ok := m["id"]; ok {
			final = m
		}
	}
	if progress != steps {
		t.Errorf("tools/call: %d progress notifications, want %d", progress, steps)
	}
	if final == nil || final["id"] != float64(42) || final["result"] == nil {
		t.Fatalf("tools/call stream has no result for id 42: %+v", evs)
	}
	if b, _ := json.Marshal(final["result"]); !strings.Contains(string(b), fmt.Sprintf("done: %d steps", steps)) {
		t.Errorf("tools/call result = %s, want \"done: %d steps\"", b, steps)
	}
}

// serveInProcess runs one request through h.ServeFastHTTP and returns its
// status, Retry-After and body. method is POST (a JSON-RPC body) or GET
// (an SSE stream request for sid).
func serveInProcess(h *transport.Handler, method, sid, body string) (status int, retryAfter, respBody string) {
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(h.Options().Path)
	ctx.Request.Header.Set("Host", "127.0.0.1")
	if method == "POST" {
		ctx.Request.Header.SetContentType("application/json")
		ctx.Request.Header.Set("Accept", "application/json, text/event-stream")
		ctx.Request.SetBodyString(body)
	} else {
		ctx.Request.Header.Set("Accept", "text/event-stream")
	}
	if sid != "" {
		ctx.Request.Header.Set("Mcp-Session-Id", sid)
		ctx.Request.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	}
	h.ServeFastHTTP(&ctx)
	return ctx.Response.StatusCode(), string(ctx.Response.Header.Peek("Retry-After")), string(ctx.Response.Body())
}
