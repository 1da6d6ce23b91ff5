package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// refAccept is a plain reading of parseAccept's contract for Accept
// headers without parameters: comma-separated media ranges, compared
// case-insensitively.
func refAccept(h string) (json, sse bool) {
	if strings.TrimSpace(h) == "" {
		return true, true
	}
	for _, r := range strings.Split(h, ",") {
		mt := strings.TrimSpace(r)
		switch {
		case mt == "*/*":
			json, sse = true, true
		case strings.EqualFold(mt, "application/json"), strings.EqualFold(mt, "application/*"):
			json = true
		case strings.EqualFold(mt, "text/event-stream"), strings.EqualFold(mt, "text/*"):
			sse = true
		}
	}
	return json, sse
}

// plainAccept reports whether h is printable ASCII with no parameters.
func plainAccept(h string) bool {
	for i := 0; i < len(h); i++ {
		if h[i] < 0x20 || h[i] > 0x7e || h[i] == ';' {
			return false
		}
	}
	return true
}

// FuzzParseAccept checks that parseAccept never panics, agrees with
// refAccept on headers without parameters, and that q=0 on every range
// admits nothing.
//
// go test ./transport -run='^$' -fuzz='^FuzzParseAccept$' -fuzztime=10s
func FuzzParseAccept(f *testing.F) {
	for _, s := range []string{
		"", " ", acceptBoth, "application/json", "text/event-stream", "*/*", "text/*", "application/*",
		"text/html", "Application/JSON , TEXT/EVENT-STREAM", "application/json;q=0", "text/event-stream; q=0.000, */*;q=0",
		"application/json;q=0.5;charset=utf-8", ",,,", "application/json,", ";q=0", "*/*;Q=0.0", "text/event-stream;q=0.",
		"text/event-stream, application/json", "*/*, text/*", "application/*, text/event-stream",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		gotJSON, gotSSE := parseAccept([]byte(h))
		// The whole-header matches agree with the general parser.
		if j, s := parseAcceptRanges([]byte(h)); j != gotJSON || s != gotSSE {
			t.Fatalf("parseAccept(%q) = %v, %v; parseAcceptRanges: %v, %v", h, gotJSON, gotSSE, j, s)
		}
		if plainAccept(h) {
			if wantJSON, wantSSE := refAccept(h); gotJSON != wantJSON || gotSSE != wantSSE {
				t.Fatalf("parseAccept(%q) = %v, %v; want %v, %v", h, gotJSON, gotSSE, wantJSON, wantSSE)
			}
		}
		// Refusing every range admits nothing.
		if strings.TrimSpace(h) != "" && !strings.ContainsAny(h, ";") {
			var b strings.Builder
			for i, r := range strings.Split(h, ",") {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(r)
				b.WriteString(";q=0")
			}
			if j, s := parseAccept([]byte(b.String())); j || s {
				t.Fatalf("parseAccept(%q) = %v, %v; want false, false", b.String(), j, s)
			}
		}
	})
}

// fuzzBackend serves tools that never wait: echo, and say {count} which
// sends up to 3 notifications first.
func fuzzBackend() *mcp.Server {
	srv := mcp.NewServer(mcp.Implementation{Name: "fuzz", Version: "0"}, nil)
	srv.AddTool(&mcp.Tool{Name: "echo", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(string(req.Params.Arguments))}}, nil
		})
	srv.AddTool(&mcp.Tool{Name: "say", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var a struct {
				Count int `json:"count"`
			}
			_ = json.Unmarshal(req.Params.Arguments, &a)
			for i := 0; i < min(a.Count, 3); i++ {
				if err := req.Log(mcp.LevelInfo, "say", i); err != nil {
					return nil, err
				}
			}
			return &mcp.CallToolResult{}, nil
		})
	return srv
}

// documentedStatus are the statuses of doc.go's table, with 200, 202 and
// 204.
var documentedStatus = map[int]bool{200: true, 202: true, 204: true, 400: true, 403: true, 404: true,
	405: true, 406: true, 409: true, 413: true, 415: true, 503: true}

// FuzzPOST sends random bodies with a few header variants (session: none,
// live at 2025-03-26, live at 2025-11-25, unknown, malformed;
// MCP-Protocol-Version; Accept; Content-Type) through
// Handler.ServeFastHTTP. It checks that the Handler never panics, answers
// with a documented status (no 5xx but 503), that a JSON body is valid
// JSON, and that every SSE event carries JSON (or is a priming event).
//
// go test ./transport -run='^$' -fuzz='^FuzzPOST$' -fuzztime=10s
func FuzzPOST(f *testing.F) {
	h := NewHandler(fuzzBackend(), &Options{
		MaxBodyBytes: 64 << 10,
		Sessions:     sessions.Options{MaxSessions: 1000},
		Logger:       discardLogger,
	})
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx, 0)
	})
	s0326 := initializeInProcess(f, h.ServeFastHTTP, mcp.Version20250326)
	s1125 := initializeInProcess(f, h.ServeFastHTTP, mcp.Version20251125)
	sids := []string{"", s0326, s1125, unknownSID, "not-a-session"}
	versions := []string{"", mcp.Version20250618, mcp.Version20260728, "2024-01-01"}
	accepts := []string{acceptBoth, ctJSONValue, ctSSEValue}
	ctypes := []string{ctJSONValue, "application/json; charset=utf-8", ctJSONValue, "text/plain"}

	for _, v := range []uint8{0, 1, 2, 3, 4, 7, 26, 52, 67, 122, 200} {
		for _, b := range []string{
			pingBody, notifyBody, responseBody, modernPing, initBody(mcp.Version20251125), `{`, `[]`, `null`,
			`[` + pingBody + `,` + notifyBody + `]`, `[` + initBody(mcp.Version20250326) + `]`, `[` + pingBody + `]`,
			`[` + callBody(1, "echo", `{"message":"hi"}`) + `]`,
			callBody(1, "echo", `{"message":"hi"}`), callBody(2, "say", `{"count":2}`), callBody(3, "nope", `{}`),
			`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"say","arguments":{"count":3}}}`,
			`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
			`{"jsonrpc":"2.0","id":5,"method":"logging/setLevel","params":{"level":"debug"}}`,
			`{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, `{"jsonrpc":"2.0","id":"x","error":{"code":1,"message":"m"}}`,
		} {
			f.Add([]byte(b), v)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, variant uint8) {
		v := int(variant)
		hdr := []string{"Content-Type", ctypes[(v/60)%4], "Accept", accepts[(v/20)%3]}
		if sid := sids[v%5]; sid != "" {
			hdr = append(hdr, "Mcp-Session-Id", sid)
		}
		if ver := versions[(v/5)%4]; ver != "" {
			hdr = append(hdr, "MCP-Protocol-Version", ver)
		}
		ctx := newRequestCtx(fasthttp.MethodPost, body, hdr...)
		h.ServeFastHTTP(ctx)
		status := ctx.Response.StatusCode()
		out := ctx.Response.Body() // reads an SSE stream to its end
		what := fmt.Sprintf("POST %q with %q", body, hdr)
		if !documentedStatus[status] {
			t.Fatalf("%s: status %d is not documented (body %s)", what, status, out)
		}
		ct := string(ctx.Response.Header.ContentType())
		switch {
		case ct == ctJSONValue && len(out) > 0:
			if !json.Valid(out) {
				t.Fatalf("%s: status %d, application/json body %q is not JSON", what, status, out)
			}
			if trimmed := bytes.TrimLeft(body, " \t\r\n"); status == fasthttp.StatusOK && len(trimmed) > 0 && trimmed[0] == '[' && out[0] != '[' {
				t.Fatalf("%s: a batch answered 200 with %s, not an array", what, out)
			}
		case ct == ctSSEValue:
			r := newSSEReader(bytes.NewReader(out))
			for {
				e, err := r.next()
				if err != nil {
					break
				}
				if e.HasData && e.Data != "" && !json.Valid([]byte(e.Data)) {
					t.Fatalf("%s: SSE event data %q is not JSON", what, e.Data)
				}
			}
		}
	})
}

// FuzzScanTokens checks the token scan of the 404 fast path against
// bytes.Contains.
func FuzzScanTokens(f *testing.F) {
	for _, s := range []string{
		``, `"i`, `"initialize"`, `"initialized"`, `{"jsonrpc":"2.0","id":1,"method":"initialize"}`,
		`{"params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}},"method":"initialize"}`,
		`"i"i"initialize"`, `""io.modelcontextprotocol/protocolVersion"`,
		`z`, `zzzzzzzzz"initialize"`, `"initializ`, `initialize"`, `V"io.modelcontextprotocol/protocolVersion`,
		`"io.modelcontextprotocol/protocolVersio"io.modelcontextprotocol/protocolVersion"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		meta, init := scanTokens(body)
		if want := bytes.Contains(body, metaVersionToken); meta != want {
			t.Errorf("scanTokens(%q) meta = %v, want %v", body, meta, want)
		}
		if want := bytes.Contains(body, initializeToken); init != want {
			t.Errorf("scanTokens(%q) init = %v, want %v", body, init, want)
		}
	})
}

// FuzzRawRequest writes raw bytes on a connection to the app the binary
// serves (NewApp, /healthz and /metrics, Route in front: guardedApp) over
// an in-memory listener, as one client would, the connection then
// half-closed, and reads every response until the server closes it. It
// checks that nothing panics, that no response is a 5xx but 503, that
// the refusals of framing and of fasthttp (400, 403, 408, 413, 414, 431)
// carry JSON, and that no response follows one with Connection: close.
// It also checks badFraming's counting shortcut against the line-by-line
// scan on each request the bytes hold.
//
// go test ./transport -run='^$' -fuzz='^FuzzRawRequest$' -fuzztime=60s
func FuzzRawRequest(f *testing.F) {
	const maxHeader, maxBody = 2 << 10, 4 << 10
	h := NewHandler(fuzzBackend(), &Options{
		MaxBodyBytes:   maxBody,
		MaxHeaderBytes: maxHeader,
		Sessions:       sessions.Options{MaxSessions: 1000},
		Logger:         discardLogger,
	})
	app := guardedApp(h)
	ln := fasthttputil.NewInmemoryListener()
	lens := make(chan int, 1)
	served := make(chan error, 1)
	go func() { served <- app.Listener(eofListener{ln, lens}) }() // owner: this fuzz target; exit: Shutdown in Cleanup
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx, 0)
		_ = app.ShutdownWithContext(ctx)
		<-served
	})

	post := func(path, extra, body string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: " + acceptBoth + "\r\n" + extra +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	smuggled := post("/mcp", "Mcp-Session-Id: "+unknownSID+"\r\n", callBody(1, "echo", `{}`))
	ping := chunked(pingBody)
	for _, s := range []string{
		post("/mcp", "", initBody("2025-11-25")),
		post("/mcp", "MCP-Protocol-Version: 2026-07-28\r\n", modernPing) + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: " + strconv.Itoa(len(ping)+len(smuggled)) + "\r\n\r\n" + ping + smuggled,
		"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(ping)+len(smuggled)) + "\r\nTransfer-Encoding: chunked\r\n\r\n" + ping + smuggled,
		"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n" + ping + smuggled,
		"POST /mcp HTTP/1.1\r\nHost: x\r\nX: a\r\n\tTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n" + ping + smuggled,
		"POST /mcp HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n" + ping + smuggled,
		"POST /mcp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\nContent-Length: 40\r\n\r\n" + pingBody + smuggled,
		"POST /mcp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + ping + smuggled,
		"GET /healthz HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nOrigin: http://localhost:1\r\n\r\n" + smuggled,
		"GET /metrics HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n",
		"POST /mcp HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 40\r\n\r\n" + pingBody,
		"POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n",
		"GET /healthz?" + strings.Repeat("a", 3000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + strings.Repeat("t", 3000) + "\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n", "G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n", "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// The requests as fasthttp reads them, for HEAD (no response
		// body) and the framing oracle.
		var heads []bool
		rb := bufio.NewReaderSize(bytes.NewReader(in), maxHeader)
		for {
			var req fasthttp.Request
			if err := req.ReadLimitBody(rb, maxBody); err != nil {
				break
			}
			heads = append(heads, req.Header.IsHead())
			hdr := readHeaders(&req.Header)
			if got, want := badFraming(&req.Header, &hdr), badFramingRaw(&req.Header, req.Header.RawHeaders()); got != want {
				t.Fatalf("%q: badFraming %s, badFramingRaw %s", req.Header.RawHeaders(), refusals[got].body, refusals[want].body)
			}
		}

		if len(in) == 0 {
			return // the server closes the connection at once
		}
		lens <- len(in)
		c, err := ln.Dial()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(in); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		for i := 0; ; i++ {
			var r fasthttp.Response
			r.SkipBody = i < len(heads) && heads[i]
			err := r.Read(br)
			if errors.Is(err, io.EOF) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("%q: no end of the connection after %d responses", in, i)
			}
			if err != nil {
				return // a response fasthttp's client cannot frame (e.g. after 100-continue): not what this checks
			}
			status := r.StatusCode()
			if status >= 500 && status != fasthttp.StatusServiceUnavailable {
				t.Fatalf("%q: response %d is %d: %s", in, i, status, r.Body())
			}
			switch {
			case status == 400 && string(r.Body()) == "Invalid http method":
				// Fiber's router, for a method it does not know, on the
				// routes it serves: text/plain, nothing echoed.
			case status == 400, status == 403, status == 408, status == 413, status == 414, status == 431:
				if ct := string(r.Header.ContentType()); ct != ctJSONValue || !r.SkipBody && !json.Valid(r.Body()) {
					t.Fatalf("%q: response %d: %d %s %q, want a JSON-RPC error", in, i, status, ct, r.Body())
				}
			}
			if r.ConnectionClose() {
				// A body after a response taken for HEAD's (the server
				// refused that request) is no second response.
				if rest, _ := io.ReadAll(br); bytes.HasPrefix(rest, []byte("HTTP/")) || len(rest) > 0 && !r.SkipBody {
					t.Fatalf("%q: %q after response %d (%d, Connection: close)", in, rest, i, status)
				}
				return
			}
		}
	})
}

// eofListener hands out connections that end (io.EOF) after as many
// bytes as the next value of lens: the client's half-close, which
// fasthttputil's pipes lack.
type eofListener struct {
	net.Listener
	lens <-chan int
}

func (l eofListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &eofConn{Conn: c, left: <-l.lens}, nil
}

type eofConn struct {
	net.Conn
	left int
}

func (c *eofConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= n
	return n, err
}
