package transport

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// All benchmarks here run in-process: the Fiber app's handler
// (NewApp(h).Handler()) on a prepared *fasthttp.RequestCtx, no sockets and
// no HTTP parsing. Each checks the response after its loop.

// BenchmarkNotFound measures the 404 fast path: a request naming an unknown
// session.
//
// go test ./transport -run='^$' -bench=BenchmarkNotFound -benchmem -count=10
func BenchmarkNotFound(b *testing.B) {
	for _, c := range []struct {
		method string
		body   []byte
		hdr    []string
	}{
		{fasthttp.MethodPost, []byte(pingBody), []string{"Content-Type", ctJSONValue, "Accept", acceptBoth, "Mcp-Session-Id", unknownSID}},
		{fasthttp.MethodGet, nil, []string{"Accept", ctSSEValue, "Mcp-Session-Id", unknownSID}},
		{fasthttp.MethodDelete, nil, []string{"Mcp-Session-Id", unknownSID}},
	} {
		b.Run("method="+c.method, func(b *testing.B) {
			_, app := newInProcess(b, nil)
			ctx := newRequestCtx(c.method, c.body, c.hdr...)
			b.ReportAllocs()
			for b.Loop() {
				app(ctx)
			}
			if got := ctx.Response.StatusCode(); got != fasthttp.StatusNotFound {
				b.Fatalf("status = %d, want %d", got, fasthttp.StatusNotFound)
			}
		})
	}
}

// BenchmarkInitialize measures initialize: a new session, its state and
// the JSON result. Each session is ended (not timed separately) so that
// the map stays small.
//
// go test ./transport -run='^$' -bench=BenchmarkInitialize -benchmem -count=10
func BenchmarkInitialize(b *testing.B) {
	ts, app := newInProcess(b, &Options{Sessions: sessions.Options{MaxSessions: -1}})
	ctx := newRequestCtx(fasthttp.MethodPost, []byte(initBody("2025-11-25")), "Content-Type", ctJSONValue, "Accept", acceptBoth)
	b.ReportAllocs()
	for b.Loop() {
		app(ctx)
		if s := ts.h.Sessions().Lookup(b2s(ctx.Response.Header.Peek("Mcp-Session-Id"))); s != nil {
			s.End(sessions.EndDelete)
		}
	}
	if got := ctx.Response.StatusCode(); got != fasthttp.StatusOK {
		b.Fatalf("status = %d, want 200 (body %s)", got, ctx.Response.Body())
	}
	if n := ts.h.Sessions().Len(); n != 0 {
		b.Fatalf("%d sessions left, want 0", n)
	}
}

// BenchmarkCall measures a tools/call of a live session: mode=json is
// echo, answered with application/json; mode=json-typed is the same echo
// added with mcp.AddTool (inferred schemas, validated and decoded
// arguments, structured content); mode=sse is the notify tool with one
// notification, answered with an SSE stream (priming, notification,
// response) read to its end.
//
// go test ./transport -run='^$' -bench=BenchmarkCall -benchmem -count=10
func BenchmarkCall(b *testing.B) {
	type echo struct {
		Message string `json:"message"`
	}
	for _, c := range []struct {
		mode, body, want string
	}{
		{"json", callBody(7, "echo", `{"message":"hello"}`), "application/json"},
		{"json-typed", callBody(7, "typed-echo", `{"message":"hello"}`), "application/json"},
		{"sse", callBody(7, "notify", `{"count":1}`), "text/event-stream"},
	} {
		b.Run("mode="+c.mode, func(b *testing.B) {
			ts, app := newInProcess(b, nil)
			mcp.AddTool(ts.srv, &mcp.Tool{Name: "typed-echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in echo) (*mcp.CallToolResult, echo, error) {
				return nil, in, nil
			})
			sid := initializeInProcess(b, app, "2025-11-25")
			ctx := newRequestCtx(fasthttp.MethodPost, []byte(c.body), "Content-Type", ctJSONValue, "Accept", acceptBoth, "Mcp-Session-Id", sid)
			benchmarkPOST(b, app, ctx, c.want)
		})
	}
}

// BenchmarkTypedRatio serves the echo of mode=json and the typed echo
// of mode=json-typed (see [BenchmarkCall]) on one session, alternating
// chunks of 64 calls, and reports each one's ns/call (raw-ns/call,
// typed-ns/call) and typed/raw, the typed echo's calls per second as a
// fraction of the raw one's. Alternating in one process makes the ratio
// robust to the load of a shared machine, which moves both alike; ns/op
// is per pair of calls.
//
// go test ./transport -run='^$' -bench=BenchmarkTypedRatio -count=6
func BenchmarkTypedRatio(b *testing.B) {
	type echo struct {
		Message string `json:"message"`
	}
	ts, app := newInProcess(b, nil)
	mcp.AddTool(ts.srv, &mcp.Tool{Name: "typed-echo"}, func(_ context.Context, _ *mcp.CallToolRequest, in echo) (*mcp.CallToolResult, echo, error) {
		return nil, in, nil
	})
	sid := initializeInProcess(b, app, "2025-11-25")
	raw := newRequestCtx(fasthttp.MethodPost, []byte(callBody(7, "echo", `{"message":"hello"}`)), "Content-Type", ctJSONValue, "Accept", acceptBoth, "Mcp-Session-Id", sid)
	typed := newRequestCtx(fasthttp.MethodPost, []byte(callBody(7, "typed-echo", `{"message":"hello"}`)), "Content-Type", ctJSONValue, "Accept", acceptBoth, "Mcp-Session-Id", sid)
	const chunk = 64
	var rawNs, typedNs time.Duration
	n := 0
	run := func(ctx *fasthttp.RequestCtx) time.Duration {
		start := time.Now()
		for range chunk {
			ctx.Response.Reset()
			app(ctx)
		}
		return time.Since(start)
	}
	for b.Loop() {
		if n%chunk == 0 {
			rawNs += run(raw)
			typedNs += run(typed)
		}
		n++
	}
	calls := float64((n + chunk - 1) / chunk * chunk)
	b.ReportMetric(float64(rawNs)/calls, "raw-ns/call")
	b.ReportMetric(float64(typedNs)/calls, "typed-ns/call")
	b.ReportMetric(float64(rawNs)/float64(typedNs), "typed/raw")
	for _, ctx := range []*fasthttp.RequestCtx{raw, typed} {
		if body := ctx.Response.Body(); ctx.Response.StatusCode() != fasthttp.StatusOK || !bytes.Contains(body, []byte(`"id":7,"result"`)) || bytes.Contains(body, []byte(`isError`)) {
			b.Fatalf("status %d, body %s", ctx.Response.StatusCode(), body)
		}
	}
}

// BenchmarkModern measures a 2026-07-28 tools/call (no session):
// mode=json is echo, answered with application/json; mode=sse is the
// notify tool with one notification, answered with an SSE stream
// (notification, response) read to its end.
//
// go test ./transport -run='^$' -bench=BenchmarkModern -benchmem -count=10
func BenchmarkModern(b *testing.B) {
	const meta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/logLevel":"debug"}`
	for _, c := range []struct {
		mode, tool, args, want string
	}{
		{"json", "echo", `{"message":"hello"}`, "application/json"},
		{"sse", "notify", `{"count":1}`, "text/event-stream"},
	} {
		b.Run("mode="+c.mode, func(b *testing.B) {
			_, app := newInProcess(b, nil)
			body := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"` + c.tool + `","arguments":` + c.args + `,` + meta + `}}`
			ctx := newRequestCtx(fasthttp.MethodPost, []byte(body), "Content-Type", ctJSONValue, "Accept", acceptBoth,
				"MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", c.tool)
			benchmarkPOST(b, app, ctx, c.want)
		})
	}
}

// benchmarkPOST serves ctx, a POST whose request has id 7, in a loop,
// reading each answer to its end (an SSE stream too), and then checks the
// last: 200 with Content-Type want, carrying the response to id 7.
func benchmarkPOST(b *testing.B, app fasthttp.RequestHandler, ctx *fasthttp.RequestCtx, want string) {
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		app(ctx)
		_ = ctx.Response.Body() // reads an SSE stream to its end
	}
	if got, ct := ctx.Response.StatusCode(), string(ctx.Response.Header.ContentType()); got != fasthttp.StatusOK || ct != want {
		b.Fatalf("status %d, Content-Type %q; want 200 %s (body %s)", got, ct, want, ctx.Response.Body())
	}
	if body := ctx.Response.Body(); !bytes.Contains(body, []byte(`"id":7,"result"`)) {
		b.Fatalf("body %s: want the response to id 7", body)
	}
}

// BenchmarkScanTokens measures the scan for the initialize and _meta
// protocol-version tokens that every legacy POST body goes through before
// the session lookup.
//
// go test ./transport -run='^$' -bench=BenchmarkScanTokens -count=10
func BenchmarkScanTokens(b *testing.B) {
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}`
	for _, c := range []struct{ name, body string }{
		{"body=ping", pingBody},
		{"body=call", call},
		{"body=call-x20", strings.Repeat(call, 20)},
		{"body=initialize", initBody("2025-11-25")},
	} {
		b.Run(c.name, func(b *testing.B) {
			body := []byte(c.body)
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				scanTokens(body)
			}
		})
	}
}

// BenchmarkDeadline measures what fasthttp does to a keep-alive connection
// per request when ReadTimeout and IdleTimeout are set: two read
// deadlines, each time.Now() plus the timeout. conn=tcp is the connection
// as accepted; conn=listener is the same through a [Listener].
//
// go test ./transport -run='^$' -bench=BenchmarkDeadline -count=10
func BenchmarkDeadline(b *testing.B) {
	c, _ := loopbackPair(b)
	for _, conn := range []struct {
		name string
		c    net.Conn
	}{{"tcp", c.Conn}, {"listener", c}} {
		b.Run("conn="+conn.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = conn.c.SetReadDeadline(time.Now().Add(time.Minute))
				_ = conn.c.SetReadDeadline(time.Now().Add(time.Minute))
			}
		})
	}
}

// BenchmarkHandshake measures a session's whole life as the pinned
// handshake figure drives it (bench/cmd/pinned): initialize,
// notifications/initialized and DELETE, one op each.
//
// go test ./transport -run='^$' -bench=BenchmarkHandshake -benchmem -count=10
func BenchmarkHandshake(b *testing.B) {
	_, app := newInProcess(b, &Options{Sessions: sessions.Options{MaxSessions: -1}})
	init := newRequestCtx(fasthttp.MethodPost, []byte(initBody("2025-11-25")), "Content-Type", ctJSONValue, "Accept", acceptBoth)
	notif := newRequestCtx(fasthttp.MethodPost, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`),
		"Content-Type", ctJSONValue, "Accept", acceptBoth, "MCP-Protocol-Version", "2025-11-25", "Mcp-Session-Id", unknownSID)
	del := newRequestCtx(fasthttp.MethodDelete, nil, "MCP-Protocol-Version", "2025-11-25", "Mcp-Session-Id", unknownSID)
	b.ReportAllocs()
	for b.Loop() {
		init.Response.Reset()
		app(init)
		sid := init.Response.Header.Peek("Mcp-Session-Id")
		notif.Request.Header.SetBytesV("Mcp-Session-Id", sid)
		del.Request.Header.SetBytesV("Mcp-Session-Id", sid)
		notif.Response.Reset()
		app(notif)
		del.Response.Reset()
		app(del)
		if del.Response.StatusCode() != fasthttp.StatusNoContent {
			break
		}
	}
	for _, c := range []struct {
		ctx  *fasthttp.RequestCtx
		want int
	}{{init, fasthttp.StatusOK}, {notif, fasthttp.StatusAccepted}, {del, fasthttp.StatusNoContent}} {
		if got := c.ctx.Response.StatusCode(); got != c.want {
			b.Fatalf("status %d, want %d (body %s)", got, c.want, c.ctx.Response.Body())
		}
	}
}
