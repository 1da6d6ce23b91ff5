//go:build !race

package transport

import (
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/sessions"
)

// Zero-allocation contracts. Under -race sync.Pool drops items at random,
// so these run without it (make test: go test -run Allocs).

// notFoundCases are requests naming an unknown session, by method and by
// the shape of the ID: each must get 404 without allocating.
var notFoundCases = []struct {
	name   string
	method string
	body   []byte
	hdr    []string
}{
	{"POST/well-formed", fasthttp.MethodPost, []byte(pingBody), []string{"Content-Type", ctJSONValue, "Accept", acceptBoth, "Mcp-Session-Id", unknownSID}},
	{"POST/malformed", fasthttp.MethodPost, []byte(pingBody), []string{"Content-Type", ctJSONValue, "Accept", acceptBoth, "Mcp-Session-Id", "not-a-session"}},
	{"POST/call", fasthttp.MethodPost, []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}`),
		[]string{"Content-Type", "application/json; charset=utf-8", "Accept", acceptBoth, "Mcp-Session-Id", unknownSID, "MCP-Protocol-Version", "2025-11-25", "Origin", "http://localhost:6274"}},
	{"GET/well-formed", fasthttp.MethodGet, nil, []string{"Accept", ctSSEValue, "Mcp-Session-Id", unknownSID}},
	{"GET/malformed", fasthttp.MethodGet, nil, []string{"Accept", ctSSEValue, "Mcp-Session-Id", "NOT-A-SESSION-0123456789ABCDEF01"}},
	{"GET/Last-Event-ID", fasthttp.MethodGet, nil, []string{"Accept", ctSSEValue, "Mcp-Session-Id", unknownSID, "Last-Event-ID", "3_14"}},
	{"DELETE/well-formed", fasthttp.MethodDelete, nil, []string{"Mcp-Session-Id", unknownSID}},
	{"DELETE/malformed", fasthttp.MethodDelete, nil, []string{"Mcp-Session-Id", "x"}},
}

// TestNotFoundAllocs checks that the 404 path for an unknown (well-formed
// or malformed) Mcp-Session-Id does not allocate, on POST, GET and DELETE,
// both through Handler.ServeFastHTTP and through the Fiber app of NewApp.
func TestNotFoundAllocs(t *testing.T) {
	ts, app := newInProcess(t, nil)
	initializeInProcess(t, app, "2025-11-25") // a live session in the map
	for _, via := range []struct {
		name  string
		serve fasthttp.RequestHandler
	}{
		{"handler", ts.h.ServeFastHTTP},
		{"fiber", app},
	} {
		for _, c := range notFoundCases {
			t.Run(via.name+"/"+c.name, func(t *testing.T) {
				ctx := newRequestCtx(c.method, c.body, c.hdr...)
				via.serve(ctx) // warm up
				if got := ctx.Response.StatusCode(); got != fasthttp.StatusNotFound {
					t.Fatalf("status %d, want 404 (body %s)", got, ctx.Response.Body())
				}
				if got := string(ctx.Response.Body()); got != string(refusals[refuseSessionNotFound].body) {
					t.Fatalf("body %s, want %s", got, refusals[refuseSessionNotFound].body)
				}
				if n := testing.AllocsPerRun(100, func() { via.serve(ctx) }); n != 0 {
					t.Fatalf("404 path: got %v allocs/op, want 0", n)
				}
			})
		}
	}
}

// TestParseAcceptAllocs checks that parseAccept does not allocate.
func TestParseAcceptAllocs(t *testing.T) {
	for _, h := range []string{"", acceptBoth, "text/event-stream;q=0.9, application/*;q=0.1", "text/html, */*;q=0", "application/json;q=0"} {
		b := []byte(h)
		if n := testing.AllocsPerRun(100, func() { parseAccept(b) }); n != 0 {
			t.Errorf("parseAccept(%q): %v allocs/op, want 0", h, n)
		}
	}
}

// TestIsJSONContentTypeAllocs checks that isJSONContentType does not
// allocate.
func TestIsJSONContentTypeAllocs(t *testing.T) {
	for _, ct := range []string{"application/json", "Application/JSON; charset=utf-8", "text/plain", ""} {
		b := []byte(ct)
		if n := testing.AllocsPerRun(100, func() { isJSONContentType(b) }); n != 0 {
			t.Errorf("isJSONContentType(%q): %v allocs/op, want 0", ct, n)
		}
	}
}

// TestOriginAllowAllocs checks that originMatcher.allow does not allocate,
// for allowed and refused origins.
func TestOriginAllowAllocs(t *testing.T) {
	m := newOriginMatcher(append([]string{"https://app.example.com"}, DefaultAllowedOrigins...))
	for _, o := range []string{"", "http://localhost:6274", "https://[::1]:8443", "https://app.example.com", "https://evil.example", "http://localhost.evil.example"} {
		b := []byte(o)
		if n := testing.AllocsPerRun(100, func() { m.allow(b) }); n != 0 {
			t.Errorf("allow(%q): %v allocs/op, want 0", o, n)
		}
	}
}

// TestRouteAllocs checks that Route adds no allocation to the 404 path.
func TestRouteAllocs(t *testing.T) {
	ts, _ := newInProcess(t, nil)
	next := func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusTeapot) }
	serve := ts.h.Route(next)
	ctx := newRequestCtx(fasthttp.MethodPost, []byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`),
		"Content-Type", "application/json", "Mcp-Session-Id", "0123456789abcdef0123456789abcdef")
	serve(ctx)
	if got := ctx.Response.StatusCode(); got != fasthttp.StatusNotFound {
		t.Fatalf("Route: status %d, want 404", got)
	}
	if n := testing.AllocsPerRun(100, func() { serve(ctx) }); n != 0 {
		t.Fatalf("404 through Route: %v allocs/op, want 0", n)
	}
	other := newRequestCtx(fasthttp.MethodGet, nil)
	other.Request.SetRequestURI("/healthz")
	serve(other)
	if got := other.Response.StatusCode(); got != fasthttp.StatusTeapot {
		t.Fatalf("Route: /healthz got status %d, want it passed to next", got)
	}
}

// TestListenerDeadlineAllocs checks that a Listener's connections set read
// deadlines without allocating, whether they pass one on or keep the one
// in force.
func TestListenerDeadlineAllocs(t *testing.T) {
	c, _ := loopbackPair(t)
	d := time.Now().Add(time.Minute)
	if n := testing.AllocsPerRun(100, func() {
		_ = c.SetReadDeadline(d)
		_ = c.SetReadDeadline(d.Add(time.Millisecond)) // kept
		_ = c.SetReadDeadline(time.Time{})             // passed on
	}); n != 0 {
		t.Errorf("SetReadDeadline: %v allocs/op, want 0", n)
	}
}

// TestWriteJSONResultAllocs checks that writeJSONResult encodes into the
// response's body buffer without allocating once the buffer has grown.
func TestWriteJSONResultAllocs(t *testing.T) {
	ctx := newRequestCtx(fasthttp.MethodPost, nil)
	id, result := []byte(`7`), []byte(`{"protocolVersion":"2025-11-25"}`)
	writeJSONResult(ctx, id, result)
	if got, want := string(ctx.Response.Body()), `{"jsonrpc":"2.0","id":7,"result":{"protocolVersion":"2025-11-25"}}`; got != want {
		t.Fatalf("body %s, want %s", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { writeJSONResult(ctx, id, result) }); n != 0 {
		t.Fatalf("writeJSONResult: got %v allocs/op, want 0", n)
	}
}

// TestHandshakeAllocs holds the allocations of a session's life as
// BenchmarkHandshake drives it (initialize, notifications/initialized,
// DELETE), and of a tools/call answered with JSON (BenchmarkCall): a
// ceiling each, so that what #16 removed does not come back unnoticed.
// Most of what remains is decoding (the envelope, initialize's params,
// the call's arguments), the session's state and the tool's result.
func TestHandshakeAllocs(t *testing.T) {
	ts, app := newInProcess(t, &Options{Sessions: sessions.Options{MaxSessions: -1}})
	init := newRequestCtx(fasthttp.MethodPost, []byte(initBody("2025-11-25")), "Content-Type", ctJSONValue, "Accept", acceptBoth)
	notif := newRequestCtx(fasthttp.MethodPost, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`),
		"Content-Type", ctJSONValue, "Accept", acceptBoth, "MCP-Protocol-Version", "2025-11-25", "Mcp-Session-Id", unknownSID)
	del := newRequestCtx(fasthttp.MethodDelete, nil, "MCP-Protocol-Version", "2025-11-25", "Mcp-Session-Id", unknownSID)
	failed := ""
	handshake := func() {
		app(init)
		sid := init.Response.Header.Peek("Mcp-Session-Id")
		notif.Request.Header.SetBytesV("Mcp-Session-Id", sid)
		del.Request.Header.SetBytesV("Mcp-Session-Id", sid)
		app(notif)
		app(del)
		if init.Response.StatusCode() != fasthttp.StatusOK || notif.Response.StatusCode() != fasthttp.StatusAccepted || del.Response.StatusCode() != fasthttp.StatusNoContent {
			failed = string(init.Response.Body())
		}
	}
	handshake()
	if n := testing.AllocsPerRun(100, handshake); n > maxHandshakeAllocs {
		t.Errorf("handshake: got %v allocs/op, want at most %v", n, maxHandshakeAllocs)
	}
	if failed != "" || ts.h.Sessions().Len() != 0 {
		t.Fatalf("handshake failed (initialize answered %s), or %d sessions left", failed, ts.h.Sessions().Len())
	}

	sid := initializeInProcess(t, app, "2025-11-25")
	call := newRequestCtx(fasthttp.MethodPost, []byte(callBody(7, "echo", `{"message":"hello"}`)), "Content-Type", ctJSONValue, "Accept", acceptBoth, "Mcp-Session-Id", sid)
	app(call)
	if call.Response.StatusCode() != fasthttp.StatusOK {
		t.Fatalf("call: status %d, body %s", call.Response.StatusCode(), call.Response.Body())
	}
	if n := testing.AllocsPerRun(100, func() { app(call) }); n > maxCallAllocs {
		t.Errorf("tools/call: got %v allocs/op, want at most %v", n, maxCallAllocs)
	}
}

// The ceilings of TestHandshakeAllocs: 42 and 35 before #16, 18 and 2
// after it (BenchmarkHandshake, BenchmarkCall/mode=json; the call's
// count includes the echo tool's result, made with mcp.TextResult as any
// tool can, and echo is an inline tool: no worker, no flight, its JSON
// response encoded into the HTTP response's body; the other is the
// exchange, which holds the message and the mcp.Call).
const (
	maxHandshakeAllocs = 18
	maxCallAllocs      = 2
)
