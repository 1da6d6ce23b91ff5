package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/catalog"
	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// TestMain runs the tests, then fails the run if goroutines of this module
// outlive them (SSE writers, tool calls, sweepers): every goroutine has an
// owner and an exit.
func TestMain(m *testing.M) { testutil.Main(m, leakMarkers...) }

// leakMarkers are stack frames of goroutines the module starts.
var leakMarkers = []string{
	"transport.(*Handler).writeSSE",
	"transport.(*workers).loop",      // calls and GET-stream pumps
	"transport.(*Handler).keepAlive", // the GET streams' keep-alive ticker
	"sessions.(*Map).sweep",
}

// A testServer is a Handler behind NewApp, listening on 127.0.0.1:0, with
// an mcp.Server backend serving catalog.Default plus the test tools:
//
//   - block {gate}: marks the gate started, then returns "released" when
//     the gate is released, or stops when the request is cancelled;
//   - notify {count, intervalMs?, gate?, gateAfter?}: sends count
//     notifications/message (data {"n": i}), intervalMs apart; with a
//     gate, after notification gateAfter it marks the gate started and
//     waits for its release. Returns "sent <count>".
type testServer struct {
	h      *Handler
	app    *fiber.App
	srv    *mcp.Server
	url    string
	client *http.Client

	mu    sync.Mutex
	gates map[string]*gate
}

// A gate lets a test hold a tool call at a known point.
type gate struct {
	started     chan struct{}
	release     chan struct{}
	startOnce   sync.Once
	releaseOnce sync.Once
}

func (g *gate) markStarted() { g.startOnce.Do(func() { close(g.started) }) }

// Release lets the tool go on. It is idempotent.
func (g *gate) Release() { g.releaseOnce.Do(func() { close(g.release) }) }

// waitStarted waits until the tool reached the gate.
func (g *gate) waitStarted(t testing.TB) {
	t.Helper()
	select {
	case <-g.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the tool did not reach its gate within 5s")
	}
}

func (ts *testServer) gate(name string) *gate {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	g := ts.gates[name]
	if g == nil {
		g = &gate{started: make(chan struct{}), release: make(chan struct{})}
		ts.gates[name] = g
	}
	return g
}

// newBackend returns the test backend: catalog.Default and the test
// tools, whose gates live in ts.
func newBackend(ts *testServer) *mcp.Server {
	srv := mcp.NewServer(mcp.Implementation{Name: "transport-test", Version: "0"}, nil)
	catalog.Default(srv)
	// block waits for its gate's release, or for its context.
	block := func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		name, _ := req.Params.StringArgument("gate")
		g := ts.gate(name)
		g.markStarted()
		select {
		case <-g.release:
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("released")}}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	gateSchema := json.RawMessage(`{"type":"object","properties":{"gate":{"type":"string"}}}`)
	srv.AddTool(&mcp.Tool{Name: "block", InputSchema: gateSchema}, block)
	srv.AddTool(&mcp.Tool{Name: "inline_block", InputSchema: gateSchema, Inline: true}, block) // on the request's goroutine
	srv.AddTool(&mcp.Tool{                                                                     // a result off the common encoding (_meta), on the request's goroutine
		Name:        "inline_meta",
		InputSchema: json.RawMessage(`{"type":"object"}`),
		Inline:      true,
	}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{{Type: "text", Text: "meta", Meta: mcp.Meta{"k": "v"}}}}, nil
	})
	srv.AddTool(&mcp.Tool{
		Name:        "notify",
		InputSchema: json.RawMessage(`{"type":"object"}`),
	}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var a struct {
			Count      int    `json:"count"`
			IntervalMs int    `json:"intervalMs"`
			Gate       string `json:"gate"`
			GateAfter  int    `json:"gateAfter"`
		}
		if err := json.Unmarshal(req.Params.Arguments, &a); err != nil {
			return nil, err
		}
		for i := 1; i <= a.Count; i++ {
			if err := req.Log(mcp.LevelInfo, "notify", map[string]int{"n": i}); err != nil {
				return nil, err
			}
			if a.Gate != "" && i == a.GateAfter {
				g := ts.gate(a.Gate)
				g.markStarted()
				select {
				case <-g.release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			if a.IntervalMs > 0 && i < a.Count {
				tm := time.NewTimer(time.Duration(a.IntervalMs) * time.Millisecond)
				select {
				case <-tm.C:
				case <-ctx.Done():
					tm.Stop()
					return nil, ctx.Err()
				}
			}
		}
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(fmt.Sprintf("sent %d", a.Count))}}, nil
	})
	srv.AddTool(&mcp.Tool{ // logs twice, then answers, on the request's goroutine
		Name:        "inline_log",
		InputSchema: json.RawMessage(`{"type":"object"}`),
		Inline:      true,
	}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		for i := 1; i <= 2; i++ {
			if err := req.Log(mcp.LevelInfo, "inline", map[string]int{"n": i}); err != nil {
				return nil, err
			}
		}
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("logged")}}, nil
	})
	srv.AddTool(&mcp.Tool{
		Name:        "disconnect",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"gate":{"type":"string"}}}`),
	}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var a struct {
			Gate string `json:"gate"`
		}
		_ = json.Unmarshal(req.Params.Arguments, &a)
		closed := req.CloseSSEStream()
		g := ts.gate(a.Gate)
		g.markStarted()
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if err := req.Log(mcp.LevelInfo, "disconnect", "after the close"); err != nil {
			return nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(fmt.Sprintf("closed=%v", closed))}}, nil
	})
	return srv
}

// newTestServer starts a Handler with opts (nil: defaults) behind NewApp on
// a 127.0.0.1:0 listener. Cleanup releases every gate, drains the Handler
// and shuts the app down.
func newTestServer(t testing.TB, opts *Options) *testServer {
	t.Helper()
	return newTestServerApp(t, opts, NewApp)
}

// newTestServerApp is newTestServer with the Fiber app built by mkApp.
func newTestServerApp(t testing.TB, opts *Options, mkApp func(*Handler) *fiber.App) *testServer {
	t.Helper()
	ts := newTestHandler(opts, mkApp)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16}
	serve(t, ts.h, ts.app, Listener(ln), tr, 5*time.Second)
	t.Cleanup(ts.releaseGates) // runs first: the calls end before the drain
	ts.url = "http://" + ln.Addr().String() + ts.h.Options().Path
	ts.client = &http.Client{Transport: tr}
	return ts
}

// newTestHandler returns a testServer with the test backend, a Handler
// with opts (nil: defaults; the Logger discards by default) and its app
// built by mkApp, not serving.
func newTestHandler(opts *Options, mkApp func(*Handler) *fiber.App) *testServer {
	ts := &testServer{gates: make(map[string]*gate)}
	ts.srv = newBackend(ts)
	if opts == nil {
		opts = &Options{}
	}
	if opts.Logger == nil {
		opts.Logger = discardLogger
	}
	ts.h = NewHandler(ts.srv, opts)
	ts.app = mkApp(ts.h)
	return ts
}

// serve serves app, h's app, on ln in a goroutine. Cleanup drains h
// (unless the test shut it down itself), closes tr's idle connections,
// shuts the app down within wait, and checks that Listener returned nil.
func serve(t testing.TB, h *Handler, app *fiber.App, ln net.Listener, tr *http.Transport, wait time.Duration) {
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }() // owner: the test; exit: app shutdown in Cleanup
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if !h.Draining() {
			if err := h.Shutdown(ctx, 0); err != nil {
				t.Errorf("Handler.Shutdown: %v", err)
			}
		}
		tr.CloseIdleConnections()
		if err := app.ShutdownWithContext(ctx); err != nil {
			t.Errorf("app.Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("app.Listener: %v", err)
		}
	})
}

// releaseGates releases every gate.
func (ts *testServer) releaseGates() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, g := range ts.gates {
		g.Release()
	}
}

var discardLogger = slog.New(slog.DiscardHandler)

// Header values used throughout.
const (
	acceptBoth  = "application/json, text/event-stream"
	ctJSONValue = "application/json"
	ctSSEValue  = "text/event-stream"
	unknownSID  = "0123456789abcdef0123456789abcdef" // well formed, never issued
)

// request builds a request. hdr holds name/value pairs applied after the
// defaults (POST: Content-Type application/json and Accept both; GET:
// Accept text/event-stream); an empty value deletes the header. sid, if
// not empty, is sent as Mcp-Session-Id. The request is cancelled after
// 10s or when the test ends.
func (ts *testServer) request(t testing.TB, method, sid, body string, hdr ...string) *http.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, ts.url, rd)
	if err != nil {
		t.Fatal(err)
	}
	switch method {
	case http.MethodPost:
		req.Header.Set("Content-Type", ctJSONValue)
		req.Header.Set("Accept", acceptBoth)
	case http.MethodGet:
		req.Header.Set("Accept", ctSSEValue)
	}
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	if len(hdr)%2 != 0 {
		t.Fatalf("request: odd header list %q", hdr)
	}
	for i := 0; i < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	return req
}

// open sends a request and returns the response with its body unread; the
// body is closed when the test ends.
func (ts *testServer) open(t testing.TB, method, sid, body string, hdr ...string) *http.Response {
	t.Helper()
	resp, err := ts.client.Do(ts.request(t, method, sid, body, hdr...))
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// A result is a response read to its end.
type result struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request and reads the whole response.
func (ts *testServer) do(t testing.TB, method, sid, body string, hdr ...string) result {
	t.Helper()
	resp := ts.open(t, method, sid, body, hdr...)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading the body: %v", method, err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

// doAsync sends a request from a new goroutine and delivers the whole
// response, or the error, on the returned channel. The request is built on
// the calling (test) goroutine.
func (ts *testServer) doAsync(t testing.TB, method, sid, body string, hdr ...string) <-chan asyncResult {
	t.Helper()
	req := ts.request(t, method, sid, body, hdr...)
	ch := make(chan asyncResult, 1)
	go func() { // owner: the test; exit: the response ends or the request's 10s deadline
		resp, err := ts.client.Do(req)
		if err != nil {
			ch <- asyncResult{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ch <- asyncResult{result: result{status: resp.StatusCode, header: resp.Header, body: b}, err: err}
	}()
	return ch
}

type asyncResult struct {
	result
	err error
}

// await waits for an asyncResult.
func await(t testing.TB, ch <-chan asyncResult) result {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("request: %v", r.err)
		}
		return r.result
	case <-time.After(10 * time.Second):
		t.Fatal("no response within 10s")
	}
	panic("unreachable")
}

var errStillAttached = errors.New("the stream still has a reader")

// initialize starts a session at version and sends
// notifications/initialized; it returns the session ID.
func (ts *testServer) initialize(t testing.TB, version string) string {
	t.Helper()
	r := ts.do(t, http.MethodPost, "", initBody(version))
	if r.status != http.StatusOK {
		t.Fatalf("initialize: status %d, body %s", r.status, r.body)
	}
	sid := r.header.Get("Mcp-Session-Id")
	if !sessions.ValidID(sid) {
		t.Fatalf("initialize: Mcp-Session-Id %q is not a session ID", sid)
	}
	var res struct {
		Result struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"result"`
	}
	if err := json.Unmarshal(r.body, &res); err != nil || res.Result.ProtocolVersion != version {
		t.Fatalf("initialize: result %s (err %v), want protocolVersion %s", r.body, err, version)
	}
	if r := ts.do(t, http.MethodPost, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); r.status != http.StatusAccepted {
		t.Fatalf("notifications/initialized: status %d, body %s", r.status, r.body)
	}
	return sid
}

// state returns the mcp.SessionState of a live session.
func (ts *testServer) state(t testing.TB, sid string) *mcp.SessionState {
	t.Helper()
	s := ts.h.Sessions().Lookup(sid)
	if s == nil {
		t.Fatalf("session %s is not live", sid)
	}
	return s.Conn().State()
}

func initBody(version string) string {
	return `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"` + version +
		`","capabilities":{},"clientInfo":{"name":"transport-test","version":"0"}}}`
}

// callBody is a tools/call request with raw JSON arguments.
func callBody(id int, tool, args string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, id, tool, args)
}

// rpcError decodes a JSON-RPC error response.
type rpcError struct {
	ID    json.RawMessage `json:"id"`
	Error *struct {
		Code    int64           `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

func decodeError(t testing.TB, body []byte) rpcError {
	t.Helper()
	var e rpcError
	if err := json.Unmarshal(body, &e); err != nil || e.Error == nil {
		t.Fatalf("body %q is not a JSON-RPC error (err %v)", body, err)
	}
	return e
}

// mediaType returns the media type of a Content-Type, without parameters.
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

// An sseEvent is one block of an SSE stream (fields up to a blank line).
type sseEvent struct {
	ID, Event, Data, Retry, Comment string
	HasData                         bool
}

func (e sseEvent) String() string {
	if e.Comment != "" && !e.HasData && e.ID == "" {
		return fmt.Sprintf("comment %q", e.Comment)
	}
	return fmt.Sprintf("{id %q event %q retry %q data %q}", e.ID, e.Event, e.Retry, e.Data)
}

// An sseReader parses text/event-stream bodies (WHATWG HTML §9.2.6).
type sseReader struct {
	br *bufio.Reader
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{br: bufio.NewReader(r)} }

// next returns the next block. Comment-only blocks are returned too.
func (r *sseReader) next() (sseEvent, error) {
	var e sseEvent
	var data []string
	seen := false
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			if err == io.EOF && line == "" && !seen {
				return e, io.EOF
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return e, err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if !seen {
				continue
			}
			e.Data = strings.Join(data, "\n")
			return e, nil
		}
		seen = true
		if strings.HasPrefix(line, ":") {
			e.Comment = strings.TrimPrefix(strings.TrimPrefix(line, ":"), " ")
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch name {
		case "id":
			e.ID = value
		case "event":
			e.Event = value
		case "retry":
			e.Retry = value
		case "data":
			e.HasData = true
			data = append(data, value)
		}
	}
}

// nextMessage returns the next event that carries data, skipping comments
// (keep-alives).
func (r *sseReader) nextMessage() (sseEvent, error) {
	for {
		e, err := r.next()
		if err != nil || e.HasData || e.ID != "" || e.Retry != "" {
			return e, err
		}
	}
}

// readAll reads events until the stream ends.
func (r *sseReader) readAll(t testing.TB) []sseEvent {
	t.Helper()
	var evs []sseEvent
	for {
		e, err := r.next()
		if errors.Is(err, io.EOF) {
			return evs
		}
		if err != nil {
			t.Fatalf("reading SSE after %v: %v", evs, err)
		}
		evs = append(evs, e)
	}
}

// A message is the part of a JSON-RPC message the tests look at.
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		Data json.RawMessage `json:"data"`
	} `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func decodeMessage(t testing.TB, data string) message {
	t.Helper()
	var m message
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		t.Fatalf("event data %q is not JSON: %v", data, err)
	}
	return m
}

// isResponse reports whether m is a response to request id.
func (m message) isResponse(id string) bool {
	return m.Method == "" && string(bytes.TrimSpace(m.ID)) == id && (m.Result != nil || m.Error != nil)
}

// newInProcess returns a Handler with the test backend and its NewApp app,
// not listening: for driving h.ServeFastHTTP or app.Handler() with a
// prepared *fasthttp.RequestCtx. Cleanup drains the Handler.
func newInProcess(t testing.TB, opts *Options) (*testServer, fasthttp.RequestHandler) {
	t.Helper()
	ts := newTestHandler(opts, NewApp)
	t.Cleanup(func() {
		ts.releaseGates()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ts.h.Shutdown(ctx, 0); err != nil {
			t.Errorf("Handler.Shutdown: %v", err)
		}
	})
	return ts, ts.app.Handler()
}

// newRequestCtx builds a request for the MCP endpoint. hdr holds
// name/value pairs.
func newRequestCtx(method string, body []byte, hdr ...string) *fasthttp.RequestCtx {
	ctx := &fasthttp.RequestCtx{}
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(DefaultPath)
	ctx.Request.Header.SetHost("127.0.0.1")
	for i := 0; i+1 < len(hdr); i += 2 {
		ctx.Request.Header.Set(hdr[i], hdr[i+1])
	}
	if body != nil {
		ctx.Request.SetBody(body)
	}
	return ctx
}

// initializeInProcess starts a session through serve and returns its ID.
func initializeInProcess(t testing.TB, serve fasthttp.RequestHandler, version string) string {
	t.Helper()
	ctx := newRequestCtx(fasthttp.MethodPost, []byte(initBody(version)),
		"Content-Type", ctJSONValue, "Accept", acceptBoth)
	serve(ctx)
	sid := string(ctx.Response.Header.Peek("Mcp-Session-Id"))
	if ctx.Response.StatusCode() != fasthttp.StatusOK || !sessions.ValidID(sid) {
		t.Fatalf("initialize: status %d, Mcp-Session-Id %q, body %s", ctx.Response.StatusCode(), sid, ctx.Response.Body())
	}
	return sid
}

// waitFor is testutil.WaitFor, by its short name.
var waitFor = testutil.WaitFor
