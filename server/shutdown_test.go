package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/server"
	"github.com/mcpfiber/mcpfiber/transport"
)

// TestShutdownDrain follows server.Server.Shutdown's ordered procedure
// with two GET streams open and a slow tool call in flight:
//
//   - the listener closes: new connections are refused;
//   - draining: initialize and new GET streams get 503 with Retry-After,
//     and /healthz reports draining (its handler tests Draining);
//   - each GET stream gets an SSE retry field (RetryHint plus a jitter
//     within DrainWindow) and then ends, within DrainWindow;
//   - the tool call runs to completion and its SSE stream carries the
//     final response;
//   - Shutdown returns nil well within GracePeriod, the session map is
//     empty, and no goroutine is left.
//
// Requests made while draining cannot come over the network: fasthttp
// closes the listener and idle keep-alive connections at once and serves no
// further request on busy ones. They are made in-process, on the Handler's
// ServeFastHTTP, the same code the Fiber route runs.
func TestShutdownDrain(t *testing.T) {
	checkLeaks(t)
	baseline := numGoroutine()

	const (
		drainWindow = 300 * time.Millisecond
		gracePeriod = 5 * time.Second
		// slack for a loaded machine under -race: scheduling, the SSE
		// writer's wake-up and fasthttp's 100ms shutdown poll.
		slack   = 2 * time.Second
		version = "2025-11-25"
	)
	srv, served := startServer(t, server.Config{DrainWindow: drainWindow, GracePeriod: gracePeriod})
	h := srv.Handler()
	hc := newHTTPClient(t)
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

	// A slow tool call on the first session: 5 steps 100ms apart, its
	// progress on the POST's SSE stream. It is in flight once its first
	// progress notification arrived.
	const steps = 5
	resp := rawPOST(t, hc, url, gets[0].sid, version,
		fmt.Sprintf(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"progress","arguments":{"steps":%d,"intervalMs":100},"_meta":{"progressToken":"slow"}}}`, steps))
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

	// Draining: /healthz's handler answers 503 while Draining is true.
	waitFor(t, time.Second, func() error {
		if !h.Draining() {
			return fmt.Errorf("Handler().Draining() = false after Shutdown began")
		}
		return nil
	})
	// The listener is closed: no new connections.
	waitFor(t, 2*time.Second, func() error {
		c, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second)
		if err == nil {
			c.Close()
			return fmt.Errorf("dial %s succeeded while draining", srv.Addr())
		}
		return nil
	})
	// initialize gets 503 with Retry-After and a JSON-RPC error for its id.
	status, retryAfter, body := serveInProcess(h, "POST", "", `{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"late","version":"0"}}}`)
	if status != http.StatusServiceUnavailable || retryAfter != "5" || !strings.Contains(body, `"id":9`) || !strings.Contains(body, `"error"`) {
		t.Errorf("initialize while draining = %d, Retry-After %q, %s; want 503, 5, a JSON-RPC error for id 9", status, retryAfter, body)
	}
	// A new GET stream gets 503 too, while its session lives (sessions end
	// at the end of the drain; once ended, the answer is 404).
	status, retryAfter, body = serveInProcess(h, "GET", gets[1].sid, "")
	if h.Sessions().Lookup(gets[1].sid) != nil && (status != http.StatusServiceUnavailable || retryAfter != "5") {
		t.Errorf("GET while draining = %d, Retry-After %q, %s; want 503, 5", status, retryAfter, body)
	}

	// Each GET stream: one retry-only event, then the end of the body.
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
		if d := res.End.Sub(start); d > drainWindow+slack {
			t.Errorf("GET stream %d ended %v after Shutdown began, want within the drain window %v (+%v slack)", i, d, drainWindow, slack)
		}
		t.Logf("GET stream %d: retry %v, ended %v after Shutdown began", i, ev.Retry, res.End.Sub(start))
	}

	// The tool call: the remaining progress, then its result, then the end.
	res := <-call
	if res.Err != io.EOF {
		t.Errorf("tools/call stream ended with %v, want a clean end (EOF)", res.Err)
	}
	var final map[string]any
	progress := 1
	for _, ev := range res.Events {
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
		t.Fatalf("tools/call stream has no result for id 42: %+v", res.Events)
	}
	if b, _ := json.Marshal(final["result"]); !strings.Contains(string(b), fmt.Sprintf("done: %d steps", steps)) {
		t.Errorf("tools/call result = %s, want \"done: %d steps\"", b, steps)
	}
	if !res.End.After(start) {
		t.Errorf("the tool call ended before Shutdown began: the test did not exercise a call in flight")
	}

	select {
	case err := <-shutdown:
		d := time.Since(start)
		if err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
		if d > gracePeriod/2 {
			t.Errorf("Shutdown took %v, want well within the grace period %v", d, gracePeriod)
		}
		t.Logf("Shutdown returned after %v", d)
	case <-time.After(gracePeriod + slack):
		t.Fatalf("Shutdown did not return within the grace period %v (+%v)", gracePeriod, slack)
	}
	if n := h.Sessions().Len(); n != 0 {
		t.Errorf("Sessions().Len() = %d after Shutdown, want 0", n)
	}
	if err := served.wait(t, 5*time.Second); err != nil {
		t.Errorf("Serve = %v after Shutdown, want nil", err)
	}

	// No goroutine is left: back to the count before the server started,
	// not counting leakExempt (checkLeaks then checks by stack).
	hc.CloseIdleConnections()
	waitFor(t, 5*time.Second, func() error {
		if n := numGoroutine(); n > baseline {
			return fmt.Errorf("%d goroutines after Shutdown, %d before the server started", n, baseline)
		}
		return nil
	})

	// A second Shutdown changes nothing.
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Logf("second Shutdown = %v", err)
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
