package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// The framing tests talk raw HTTP/1.1 over TCP to a server started as the
// binary starts one: NewApp, /healthz and /metrics routes, and Route in
// front (server.New).

// guardedApp is server.New's app: NewApp, the two extra routes, and the
// MCP endpoint served ahead of Fiber's router.
func guardedApp(h *Handler) *fiber.App {
	app := NewApp(h)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/metrics", func(c *fiber.Ctx) error { return c.SendString("# metrics\n") })
	app.Server().Handler = h.Route(app.Server().Handler)
	return app
}

// addrOf is the host:port a test server listens on.
func addrOf(t testing.TB, ts *testServer) string {
	t.Helper()
	u, err := url.Parse(ts.url)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// rawExchange writes raw on a new connection to addr and reads responses
// until the server closes the connection. It fails the test if the
// connection is still open after 5s.
func rawExchange(t testing.TB, addr, raw string) []*fasthttp.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	return readResponses(t, bufio.NewReader(c))
}

// readResponses reads responses from br until EOF.
func readResponses(t testing.TB, br *bufio.Reader) []*fasthttp.Response {
	t.Helper()
	var out []*fasthttp.Response
	for {
		r := &fasthttp.Response{}
		err := r.Read(br)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("after %d responses (%s): %v: the server did not close the connection", len(out), statuses(out), err)
		}
		out = append(out, r)
	}
}

func statuses(rs []*fasthttp.Response) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = strconv.Itoa(r.StatusCode())
	}
	return strings.Join(s, ", ")
}

// wantRefusal checks that rs is exactly one response: status, a JSON-RPC
// error body with code -32000, Connection: close when closes, and nothing
// of the request (marker) in it.
func wantRefusal(t testing.TB, rs []*fasthttp.Response, status int, closes bool, marker string) {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("got %d responses (%s), want exactly one", len(rs), statuses(rs))
	}
	r := rs[0]
	if r.StatusCode() != status {
		t.Fatalf("status %d, want %d (body %s)", r.StatusCode(), status, r.Body())
	}
	if ct := string(r.Header.ContentType()); ct != ctJSONValue {
		t.Errorf("Content-Type %q, want %s", ct, ctJSONValue)
	}
	if e := decodeError(t, r.Body()); e.Error.Code != jsonrpc.CodeServerError || string(e.ID) != "null" {
		t.Errorf("error %d id %s, want %d id null", e.Error.Code, e.ID, jsonrpc.CodeServerError)
	}
	if closes && !r.ConnectionClose() {
		t.Errorf("no Connection: close")
	}
	if marker != "" && strings.Contains(r.String(), marker) {
		t.Errorf("the response echoes the request (%q): %.300s", marker, r.String())
	}
}

// chunked is body as one chunk and the last chunk.
func chunked(body string) string {
	return fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
}

// TestFramingSmuggling sends, for each ambiguous framing, a request whose
// chunked body is followed by a second request (what a proxy framing by
// Content-Length, or not joining folded lines, would take for body): the
// server must answer the first with 400, a JSON-RPC error and
// Connection: close, and close the connection without serving the
// second. Each runs on the MCP endpoint (Route), /healthz (the guard, via
// Fiber's router) and an unrouted path.
func TestFramingSmuggling(t *testing.T) {
	ts := newTestServerApp(t, nil, guardedApp)
	addr := addrOf(t, ts)
	sid := ts.initialize(t, "2025-11-25")
	call := callBody(9, "echo", `{"message":"smuggled"}`)
	smuggled := "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: " + acceptBoth +
		"\r\nMcp-Session-Id: " + sid + "\r\nContent-Length: " + strconv.Itoa(len(call)) + "\r\n\r\n" + call
	body := chunked(pingBody)
	common := "Host: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: " + acceptBoth + "\r\nMcp-Session-Id: " + sid + "\r\n"
	cl := "Content-Length: " + strconv.Itoa(len(body)+len(smuggled)) + "\r\n"
	for _, c := range []struct {
		name, proto, headers string
		want                 []byte
	}{
		{"TE+CL", "HTTP/1.1", "Transfer-Encoding: chunked\r\n" + cl, refusals[refuseTEWithCL].body},
		{"CL+TE", "HTTP/1.1", cl + "Transfer-Encoding: chunked\r\n", refusals[refuseTEWithCL].body},
		{"CL+TE lower case", "HTTP/1.1", strings.ToLower(cl) + "transfer-encoding: Chunked\r\n", refusals[refuseTEWithCL].body},
		{"obs-fold TE", "HTTP/1.1", "Transfer-Encoding:\r\n chunked\r\n" + cl, refusals[refuseObsFold].body},
		{"obs-fold HTAB", "HTTP/1.1", "X-Note: a\r\n\tTransfer-Encoding: chunked\r\n" + cl, refusals[refuseObsFold].body},
		{"TE on HTTP/1.0", "HTTP/1.0", "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n", refusals[refuseTENotHTTP11].body},
		{"TE identity", "HTTP/1.1", "Transfer-Encoding: identity\r\n" + "Content-Length: " + strconv.Itoa(len(pingBody)) + "\r\n", refusals[refuseTEWithCL].body},
	} {
		for _, path := range []string{"/mcp", "/healthz", "/nowhere"} {
			t.Run(c.name+path, func(t *testing.T) {
				method := "POST"
				if path != "/mcp" {
					method = "GET"
				}
				b := body
				if c.name == "TE identity" {
					b = pingBody
				}
				raw := method + " " + path + " " + c.proto + "\r\n" + common + c.headers + "\r\n" + b + smuggled
				rs := rawExchange(t, addr, raw)
				wantRefusal(t, rs, fasthttp.StatusBadRequest, true, "smuggled")
				if got := string(rs[0].Body()); got != string(c.want) {
					t.Errorf("body %s, want %s", got, c.want)
				}
			})
		}
	}
	// No tools/call ran: the echo tool was never called.
	if r := ts.do(t, "POST", sid, pingBody); r.status != 200 {
		t.Fatalf("the session is unusable after: %d %s", r.status, r.body)
	}
}

// TestFramingChunkedServed checks that a chunked POST on HTTP/1.1 (what Go
// clients send for a body of unknown length) is served, and the
// connection kept for the next request.
func TestFramingChunkedServed(t *testing.T) {
	ts := newTestServerApp(t, nil, guardedApp)
	addr := addrOf(t, ts)
	raw := "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: " + acceptBoth +
		"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(initBody("2025-11-25")) +
		"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
	rs := rawExchange(t, addr, raw)
	if len(rs) != 2 || rs[0].StatusCode() != 200 || rs[1].StatusCode() != 200 {
		t.Fatalf("got %d responses (%s), want 200, 200", len(rs), statuses(rs))
	}
	if len(rs[0].Header.Peek("Mcp-Session-Id")) == 0 {
		t.Fatalf("initialize over a chunked body: no session (%s)", rs[0].Body())
	}
}

// TestOriginRules checks the Origin rules on every route: more than one
// Origin header is 403 whatever their order, and /healthz, /metrics and
// unrouted paths refuse an Origin not allowed as the MCP endpoint does.
func TestOriginRules(t *testing.T) {
	ts := newTestServerApp(t, nil, guardedApp)
	addr := addrOf(t, ts)
	const good, evil = "http://localhost:6274", "https://evil.example"
	for _, c := range []struct {
		name    string
		origins []string
		status  int
	}{
		{"none", nil, 200},
		{"allowed", []string{good}, 200},
		{"not allowed", []string{evil}, 403},
		{"evil then allowed", []string{evil, good}, 403},
		{"allowed then evil", []string{good, evil}, 403},
		{"allowed twice", []string{good, good}, 403},
	} {
		for _, path := range []string{"/mcp", "/healthz", "/metrics", "/nowhere"} {
			t.Run(c.name+path, func(t *testing.T) {
				var hdr strings.Builder
				for _, o := range c.origins {
					hdr.WriteString("Origin: " + o + "\r\n")
				}
				req := "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + hdr.String() + "Connection: close\r\n\r\n"
				if path == "/mcp" {
					b := initBody("2025-11-25")
					req = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: " + acceptBoth + "\r\n" +
						hdr.String() + "Connection: close\r\nContent-Length: " + strconv.Itoa(len(b)) + "\r\n\r\n" + b
				}
				rs := rawExchange(t, addr, req)
				want := c.status
				if want == 200 && path == "/nowhere" {
					want = 404
				}
				if len(rs) != 1 || rs[0].StatusCode() != want {
					t.Fatalf("got %d responses (%s), want one %d", len(rs), statuses(rs), want)
				}
				if want == 403 {
					wantRefusal(t, rs, 403, false, "")
					if got := string(rs[0].Body()); got != string(refusals[refuseForbiddenOrigin].body) {
						t.Errorf("body %s, want %s", got, refusals[refuseForbiddenOrigin].body)
					}
				}
			})
		}
	}
}

// TestHeaderLimits checks Options.MaxHeaderBytes: a bearer token that fits
// is served, a header block or a request line that does not gets 431 or
// 414 with a JSON-RPC body echoing nothing of the request.
func TestHeaderLimits(t *testing.T) {
	def := newTestServerApp(t, nil, guardedApp)
	big := newTestServerApp(t, &Options{MaxHeaderBytes: 24 << 10}, guardedApp)
	const marker = "s3cr3t"
	token := func(n int) string { return "Authorization: Bearer " + strings.Repeat(marker, n/len(marker)) + "\r\n" }
	get := func(path, hdr string) string {
		return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + hdr + "Connection: close\r\n\r\n"
	}
	post := func(hdr string) string {
		b := initBody("2025-11-25")
		return "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: " + acceptBoth + "\r\n" + hdr +
			"Connection: close\r\nContent-Length: " + strconv.Itoa(len(b)) + "\r\n\r\n" + b
	}
	served := func(t *testing.T, ts *testServer, raw string) {
		t.Helper()
		rs := rawExchange(t, addrOf(t, ts), raw)
		if len(rs) != 1 || rs[0].StatusCode() != 200 {
			t.Fatalf("got %d responses (%s), want one 200", len(rs), statuses(rs))
		}
	}
	t.Run("15KB token served", func(t *testing.T) {
		served(t, def, get("/healthz", token(15<<10)))
		served(t, def, post(token(15<<10)))
	})
	t.Run("20KB token served with MaxHeaderBytes 24KiB", func(t *testing.T) {
		served(t, big, get("/healthz", token(20<<10)))
		served(t, big, post(token(20<<10)))
	})
	t.Run("8KB URL served", func(t *testing.T) {
		served(t, def, get("/healthz?q="+strings.Repeat("a", 8<<10), ""))
	})
	t.Run("20KB token 431", func(t *testing.T) {
		rs := rawExchange(t, addrOf(t, def), post(token(20<<10)))
		wantRefusal(t, rs, fasthttp.StatusRequestHeaderFieldsTooLarge, true, marker)
	})
	t.Run("header block filling the buffer 431", func(t *testing.T) {
		raw := get("/healthz", token(DefaultMaxHeaderBytes))[:DefaultMaxHeaderBytes] // the server reads it all
		rs := rawExchange(t, addrOf(t, def), raw)
		wantRefusal(t, rs, fasthttp.StatusRequestHeaderFieldsTooLarge, true, marker)
	})
	t.Run("long token after a 300-byte request line 414", func(t *testing.T) {
		raw := get("/healthz?q="+strings.Repeat("a", 300), token(DefaultMaxHeaderBytes))[:DefaultMaxHeaderBytes]
		rs := rawExchange(t, addrOf(t, def), raw)
		// Out of fasthttp's error text: see requestLineFits.
		wantRefusal(t, rs, fasthttp.StatusRequestURITooLong, true, marker)
	})
	t.Run("URL over the limit 414", func(t *testing.T) {
		raw := ("GET /mcp?q=" + strings.Repeat(marker, DefaultMaxHeaderBytes/len(marker)))[:DefaultMaxHeaderBytes]
		rs := rawExchange(t, addrOf(t, def), raw)
		wantRefusal(t, rs, fasthttp.StatusRequestURITooLong, true, marker)
		rs = rawExchange(t, addrOf(t, def), get("/mcp?q="+strings.Repeat(marker, 20<<10/len(marker)), ""))
		wantRefusal(t, rs, fasthttp.StatusRequestURITooLong, true, marker)
	})
}

// TestServerErrors checks what fasthttp refuses before a handler runs:
// malformed requests get 400, a body over the limit 413 and a request not
// received within ReadTimeout 408, each with a JSON-RPC body echoing
// nothing of the request and Connection: close.
func TestServerErrors(t *testing.T) {
	ts := newTestServerApp(t, &Options{MaxBodyBytes: 1 << 10}, guardedApp)
	addr := addrOf(t, ts)
	const marker = "zq9marker"
	for _, c := range []struct{ name, raw string }{
		{"bad method", "G\"zq9marker\" /mcp HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"no URI", "GET  HTTP/1.1\r\nHost: x\r\nX: zq9marker\r\n\r\n"},
		{"bad version", "GET /zq9marker HTTP/x.y\r\nHost: x\r\n\r\n"},
		{"request line only", "zq9marker\r\n\r\n"},
		{"header without colon", "GET /mcp HTTP/1.1\r\nHost: x\r\nzq9marker\r\n\r\n"},
		{"header starting with SP", "GET /mcp HTTP/1.1\r\n Host: zq9marker\r\n\r\n"},
		{"no Host", "GET /mcp?zq9marker HTTP/1.1\r\nAccept: */*\r\n\r\n"},
		{"two Hosts", "GET /mcp HTTP/1.1\r\nHost: a\r\nHost: zq9marker\r\n\r\n"},
		{"two Content-Length", "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nzq9marker"},
		{"bad Content-Length", "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: zq9marker\r\n\r\n"},
		{"unknown coding", "POST /mcp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, zq9marker\r\n\r\n"},
		{"bad chunk", "POST /mcp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzq9marker\r\n"},
		{"control byte in a value", "GET /mcp HTTP/1.1\r\nHost: x\r\nX: zq9\x01marker\r\n\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rs := rawExchange(t, addr, c.raw)
			wantRefusal(t, rs, fasthttp.StatusBadRequest, true, marker)
			if got := string(rs[0].Body()); got != string(refusals[refuseMalformed].body) {
				t.Errorf("body %s, want %s", got, refusals[refuseMalformed].body)
			}
		})
	}
	t.Run("body over the limit", func(t *testing.T) {
		rs := rawExchange(t, addr, "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX: zq9marker\r\nContent-Length: 2048\r\n\r\n")
		wantRefusal(t, rs, fasthttp.StatusRequestEntityTooLarge, true, marker)
	})
	t.Run("read timeout", func(t *testing.T) {
		slow := newTestServerApp(t, nil, func(h *Handler) *fiber.App {
			app := guardedApp(h)
			app.Server().ReadTimeout = 200 * time.Millisecond
			app.Server().IdleTimeout = 200 * time.Millisecond
			return app
		})
		start := time.Now()
		rs := rawExchange(t, addrOf(t, slow), "POST /mcp HTTP/1.1\r\nHost: x\r\nX: zq9marker\r\n")
		wantRefusal(t, rs, fasthttp.StatusRequestTimeout, true, marker)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("408 after %v", d)
		}
	})
}

// TestServerErrorMapping checks readRefusal's mapping of the errors
// fasthttp hands its ErrorHandler.
func TestServerErrorMapping(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
	}{
		{fasthttp.ErrBodyTooLarge, 413},
		{fmt.Errorf("reading: %w", fasthttp.ErrBodyTooLarge), 413},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, 408},
		{fmt.Errorf("error when reading request headers: %w", &net.OpError{Op: "read", Err: timeoutErr{}}), 408},
		{errors.New("cannot find http request method"), 400},
		{&net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, 400},
	} {
		if got := refusals[readRefusal(c.err)].status; got != c.status {
			t.Errorf("readRefusal(%v): status %d, want %d", c.err, got, c.status)
		}
	}
	for _, c := range []struct {
		msg  string
		fits bool
	}{
		{`x: buffer size=10, contents: "GET / HTTP/1.1\r\nA"`, true},
		{`x: buffer size=10, contents: "GET /aaaa"`, false},
		{`x: buffer size=1000, contents: "GET /aaaa"..."aaaa"`, false},
		{`x: buffer size=1000, contents: "GET /aaaa"..."a\r\nX: b"`, true},
		{`x: buffer size=1000, contents: "GET /contents: \"x\\n\""..."aaaa"`, false}, // the first "contents: " is fasthttp's
		{`x: buffer size=1000`, true},
	} {
		if got := requestLineFits(errors.New(c.msg)); got != c.fits {
			t.Errorf("requestLineFits(%s) = %v, want %v", c.msg, got, c.fits)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// parsedCtx is a RequestCtx whose request fasthttp parsed from raw, as a
// server does (so that RequestHeader.RawHeaders is set).
func parsedCtx(t testing.TB, raw string) *fasthttp.RequestCtx {
	t.Helper()
	ctx := &fasthttp.RequestCtx{}
	if err := ctx.Request.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// sdkPOST is a POST as an MCP SDK sends it, naming an unknown session.
const sdkPOST = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: 40\r\n" +
	"Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\nMcp-Protocol-Version: 2025-11-25\r\n" +
	"Mcp-Session-Id: " + unknownSID + "\r\nAccept-Encoding: gzip\r\n\r\n" + pingBody

// TestFramingAllocs checks that the framing and Origin checks add no
// allocation: the 404 path on a parsed request, through ServeFastHTTP
// and through the guard, and the guard on another route.
func TestFramingAllocs(t *testing.T) {
	ts, _ := newInProcess(t, nil)
	ctx := parsedCtx(t, sdkPOST)
	if len(ctx.Request.Header.RawHeaders()) == 0 {
		t.Fatal("no raw headers")
	}
	next := func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusTeapot) }
	guarded := ts.h.guard(ts.h.Route(next))
	for _, c := range []struct {
		name   string
		serve  fasthttp.RequestHandler
		ctx    *fasthttp.RequestCtx
		status int
	}{
		{"ServeFastHTTP", ts.h.ServeFastHTTP, ctx, 404},
		{"guard+Route", guarded, ctx, 404},
		{"guard /healthz", guarded, parsedCtx(t, "GET /healthz HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:1\r\n\r\n"), 418},
	} {
		c.serve(c.ctx)
		if got := c.ctx.Response.StatusCode(); got != c.status {
			t.Fatalf("%s: status %d, want %d", c.name, got, c.status)
		}
		if n := testing.AllocsPerRun(100, func() { c.serve(c.ctx) }); n != 0 {
			t.Errorf("%s: %v allocs/op, want 0", c.name, n)
		}
	}
	bad := parsedCtx(t, "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
	hdr := readHeaders(&bad.Request.Header)
	if n := testing.AllocsPerRun(100, func() { badFraming(&bad.Request.Header, &hdr) }); n != 0 {
		t.Errorf("badFraming (TE+CL): %v allocs/op, want 0", n)
	}
}

// BenchmarkFraming measures badFraming on an SDK's POST, and the 404 path
// of ServeFastHTTP on that request as fasthttp parsed it (the in-process
// BenchmarkNotFound builds its request, so it has no raw header block to
// scan).
//
// go test ./transport -run='^$' -bench=BenchmarkFraming -benchmem -count=5
func BenchmarkFraming(b *testing.B) {
	ctx := parsedCtx(b, sdkPOST)
	hdr := readHeaders(&ctx.Request.Header)
	b.Run("badFraming", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if badFraming(&ctx.Request.Header, &hdr) != refuseNone {
				b.Fatal("refused")
			}
		}
	})
	b.Run("badFramingRaw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if badFramingRaw(&ctx.Request.Header, ctx.Request.Header.RawHeaders()) != refuseNone {
				b.Fatal("refused")
			}
		}
	})
	b.Run("NotFoundParsed", func(b *testing.B) {
		ts, _ := newInProcess(b, nil)
		b.ReportAllocs()
		for b.Loop() {
			ts.h.ServeFastHTTP(ctx)
		}
		if got := ctx.Response.StatusCode(); got != fasthttp.StatusNotFound {
			b.Fatalf("status %d", got)
		}
	})
}

// TestBadFraming checks badFraming, with its counting shortcut, against
// what each request needs, and against the line-by-line scan.
func TestBadFraming(t *testing.T) {
	const host = "POST /mcp HTTP/1.1\r\nHost: x\r\n"
	for _, c := range []struct {
		name, raw string
		want      []byte
	}{
		{"SDK POST", sdkPOST, nil},
		{"chunked", host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", nil},
		{"Connection: close", host + "Connection: close\r\nContent-Length: 0\r\n\r\n", nil},
		{"HTTP/1.0", "GET /mcp HTTP/1.0\r\nHost: x\r\n\r\n", nil},
		{"two Cookie lines", host + "Cookie: a=1\r\nCookie: b=2\r\nContent-Length: 0\r\n\r\n", nil},
		{"fold in Host", "POST /mcp HTTP/1.1\r\nHost: x\r\n y\r\nContent-Length: 0\r\n\r\n", refusals[refuseObsFold].body},
		{"fold, last line", host + "X: a\r\n b\r\n\r\n", refusals[refuseObsFold].body},
		{"fold in a Cookie", host + "Cookie: a=1\r\n b=2\r\n\r\n", refusals[refuseObsFold].body},
		{"fold, duplicate Content-Type", host + "Content-Type: a\r\nContent-Type: b\r\nX: a\r\n\tb\r\n\r\n", refusals[refuseObsFold].body},
		{"fold, Connection: close", host + "Connection: close\r\nX: a\r\n b\r\n\r\n", refusals[refuseObsFold].body},
		{"fold on HTTP/1.0", "GET /mcp HTTP/1.0\r\nX: a\r\n b\r\n\r\n", refusals[refuseObsFold].body},
		{"fold, bare LF", "GET /mcp HTTP/1.1\r\nHost: x\nX: a\n b\r\n\r\n", refusals[refuseObsFold].body},
		{"TE identity", host + "Transfer-Encoding: identity\r\n\r\n", refusals[refuseTENotChunked].body},
		{"TE identity + CL", host + "transfer-encoding: IDENTITY\r\nContent-Length: 0\r\n\r\n", refusals[refuseTEWithCL].body},
		{"TE, empty body, + CL", host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", refusals[refuseTEWithCL].body},
		{"TE, empty body", host + "Transfer-Encoding: Chunked \r\n\r\n0\r\n\r\n", nil},
		{"fold, POST without a body", host + "X: a\r\n b\r\n\r\n", refusals[refuseObsFold].body},
		{"fold, DELETE", "DELETE /mcp HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", refusals[refuseObsFold].body},
		{"fold, GET", "GET /mcp HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", refusals[refuseObsFold].body},
		{"fold, Content-Length: 0 sent", host + "Content-Length: 0\r\nX: a\r\n b\r\n\r\n", refusals[refuseObsFold].body},
		{"TE + CL", host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", refusals[refuseTEWithCL].body},
		{"TE on HTTP/1.0", "POST /mcp HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", refusals[refuseTENotHTTP11].body},
	} {
		ctx := parsedCtx(t, c.raw)
		hdr := readHeaders(&ctx.Request.Header)
		got := refusals[badFraming(&ctx.Request.Header, &hdr)].body
		raw := refusals[badFramingRaw(&ctx.Request.Header, ctx.Request.Header.RawHeaders())].body
		if string(got) != string(c.want) || string(raw) != string(c.want) {
			t.Errorf("%s: badFraming %s, badFramingRaw %s, want %s", c.name, got, raw, c.want)
		}
	}
}
