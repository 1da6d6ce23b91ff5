package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// A refusalRecorder is an [Observer] that records Refused calls.
type refusalRecorder struct {
	NopObserver
	mu  sync.Mutex
	got []observed
}

type observed struct {
	status int
	reason Refusal
}

func (o observed) String() string { return strconv.Itoa(o.status) + " " + o.reason.String() }

func (r *refusalRecorder) Refused(status int, reason Refusal) {
	r.mu.Lock()
	r.got = append(r.got, observed{status, reason})
	r.mu.Unlock()
}

// take returns the calls recorded since the last take.
func (r *refusalRecorder) take() []observed {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// expect fails unless exactly want was recorded since the last take (none
// when want is the zero value).
func (r *refusalRecorder) expect(t *testing.T, what string, want observed) {
	t.Helper()
	got := r.take()
	switch {
	case want == (observed{}) && len(got) != 0:
		t.Errorf("%s: Refused %v, want no call", what, got)
	case want != (observed{}) && (len(got) != 1 || got[0] != want):
		t.Errorf("%s: Refused %v, want exactly [%v]", what, got, want)
	}
}

// TestRefusalObserved checks that every refusal reaches the Observer once,
// with its status and reason, whichever writer answers it: the handler's
// paths, 2026-07-28 errors, the app's guard, fasthttp's ErrorHandler and
// Fiber's.
func TestRefusalObserved(t *testing.T) {
	rec := &refusalRecorder{}
	ts := newTestServer(t, &Options{Observer: rec, MaxInflightPerSession: 1, MaxBodyBytes: 1 << 10})
	sid := ts.initialize(t, mcp.Version20251125)
	s0618 := ts.initialize(t, mcp.Version20250618)
	rec.take()
	const modern = "2026-07-28"
	batch := `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]`
	ok := observed{}
	for _, c := range []struct {
		statusCase
		want observed
	}{
		{statusCase{name: "ping", method: "POST", sid: sid, body: pingBody, status: 200}, ok},
		{statusCase{name: "unknown session", method: "POST", sid: unknownSID, body: pingBody, status: 404}, observed{404, RefusalSessionNotFound}},
		{statusCase{name: "unknown session", method: "GET", sid: unknownSID, status: 404}, observed{404, RefusalSessionNotFound}},
		{statusCase{name: "unknown session", method: "DELETE", sid: unknownSID, status: 404}, observed{404, RefusalSessionNotFound}},
		{statusCase{name: "no session ID", method: "POST", body: pingBody, status: 400}, observed{400, RefusalSessionRequired}},
		{statusCase{name: "no session ID", method: "GET", status: 400}, observed{400, RefusalSessionRequired}},
		{statusCase{name: "bad version", method: "POST", sid: sid, body: pingBody, hdr: []string{"MCP-Protocol-Version", "2024-01-01"}, status: 400}, observed{400, RefusalBadProtocolVersion}},
		{statusCase{name: "bad version", method: "DELETE", sid: sid, hdr: []string{"MCP-Protocol-Version", "2024-01-01"}, status: 400}, observed{400, RefusalBadProtocolVersion}},
		{statusCase{name: "bad Last-Event-ID", method: "GET", sid: sid, hdr: []string{"Last-Event-ID", "9_9"}, status: 400}, observed{400, RefusalBadEventID}},
		{statusCase{name: "invalid JSON", method: "POST", sid: sid, body: `{`, status: 400}, observed{400, RefusalBadRequest}},
		{statusCase{name: "batch at 2025-06-18", method: "POST", sid: s0618, body: batch, status: 400}, observed{400, RefusalBadRequest}},
		{statusCase{name: "initialize in a batch", method: "POST", body: `[` + initBody(mcp.Version20250326) + `]`, status: 400}, observed{400, RefusalBadRequest}},
		{statusCase{name: "bad Origin", method: "POST", sid: sid, body: pingBody, hdr: []string{"Origin", "https://evil.example"}, status: 403}, observed{403, RefusalForbiddenOrigin}},
		{statusCase{name: "PUT", method: "PUT", sid: sid, body: pingBody, status: 405}, observed{405, RefusalMethodNotAllowed}},
		{statusCase{name: "modern", method: "GET", sid: sid, hdr: []string{"MCP-Protocol-Version", modern}, status: 405}, observed{405, RefusalMethodNotAllowed}},
		{statusCase{name: "Accept text/html", method: "POST", sid: sid, body: pingBody, hdr: []string{"Accept", "text/html"}, status: 406}, observed{406, RefusalNotAcceptable}},
		{statusCase{name: "Accept application/json", method: "GET", sid: sid, hdr: []string{"Accept", "application/json"}, status: 406}, observed{406, RefusalNotAcceptable}},
		{statusCase{name: "Content-Type text/plain", method: "POST", sid: sid, body: pingBody, hdr: []string{"Content-Type", "text/plain"}, status: 415}, observed{415, RefusalUnsupportedMediaType}},
		{statusCase{name: "modern ping", method: "POST", body: pingBody, hdr: []string{"MCP-Protocol-Version", modern}, status: 404}, observed{404, RefusalMethodNotFound}},
		{statusCase{name: "modern batch", method: "POST", body: batch, hdr: []string{"MCP-Protocol-Version", modern}, status: 400}, observed{400, RefusalBadRequest}},
		{statusCase{name: "modern invalid JSON", method: "POST", body: `{`, hdr: []string{"MCP-Protocol-Version", modern}, status: 400}, observed{400, RefusalBadRequest}},
		{statusCase{name: "modern listen without SSE", method: "POST", body: `{"jsonrpc":"2.0","id":4,"method":"subscriptions/listen","params":{}}`,
			hdr: []string{"MCP-Protocol-Version", modern, "Accept", "application/json"}, status: 406}, observed{406, RefusalNotAcceptable}},
		{statusCase{name: "modern notification", method: "POST", body: notifyBody, hdr: []string{"MCP-Protocol-Version", modern}, status: 202}, ok},
	} {
		c.check(t, ts)
		rec.expect(t, c.method+" "+c.name, c.want)
	}

	// 409: a second GET stream.
	ts.openSSE(t, http.MethodGet, sid, "")
	rec.expect(t, "GET stream", ok)
	statusCase{name: "second GET", method: "GET", sid: sid, status: 409}.check(t, ts)
	rec.expect(t, "second GET", observed{409, RefusalConflict})

	// 503: the session's in-flight cap.
	g := ts.gate("busy")
	call := ts.doAsync(t, http.MethodPost, sid, callBody(2, "block", `{"gate":"busy"}`))
	g.waitStarted(t)
	statusCase{name: "past MaxInflightPerSession", method: "POST", sid: sid, body: callBody(3, "block", `{"gate":"other"}`), status: 503}.check(t, ts)
	rec.expect(t, "past MaxInflightPerSession", observed{503, RefusalUnavailable})
	g.Release()
	await(t, call)
	rec.take()

	// What fasthttp refuses before a handler runs (ServerErrorHandler).
	addr := addrOf(t, ts)
	big := make([]byte, 2<<10)
	for i := range big {
		big[i] = ' '
	}
	for _, c := range []struct {
		name, raw string
		want      observed
	}{
		{"body over BodyLimit", "POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + string(big), observed{413, RefusalTooLarge}},
		{"malformed", "POST /mcp HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", observed{400, RefusalBadRequest}},
		{"TE+CL", "POST /mcp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", observed{400, RefusalBadRequest}},
		{"TE+CL /healthz", "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", observed{400, RefusalBadRequest}},
		{"bad Origin /healthz", "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: https://evil.example\r\n\r\n", observed{403, RefusalForbiddenOrigin}},
	} {
		rawExchange(t, addr, c.raw)
		waitFor(t, 2*time.Second, func() error { // the raw exchange returns as the response arrives
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.got) == 0 {
				return errors.New("no Refused call yet")
			}
			return nil
		})
		rec.expect(t, c.name, c.want)
	}

	// The same refusals through ServerErrorHandler directly.
	for _, c := range []struct {
		err  error
		want observed
	}{
		{fasthttp.ErrBodyTooLarge, observed{413, RefusalTooLarge}},
		{errors.New("cannot find http request method"), observed{400, RefusalBadRequest}},
		{os.ErrDeadlineExceeded, observed{408, RefusalOther}},
	} {
		ts.h.ServerErrorHandler(&fasthttp.RequestCtx{}, c.err)
		rec.expect(t, "ServerErrorHandler("+c.err.Error()+")", c.want)
	}

	// Fiber's ErrorHandler.
	app := fiber.New()
	for _, c := range []struct {
		err  error
		want observed
	}{
		{fiber.ErrRequestEntityTooLarge, observed{413, RefusalTooLarge}},
		{fiber.ErrRequestHeaderFieldsTooLarge, observed{431, RefusalOther}},
		{fiber.ErrRequestTimeout, observed{408, RefusalOther}},
		{fiber.ErrNotFound, observed{404, RefusalOther}},
		{fiber.ErrMethodNotAllowed, observed{405, RefusalMethodNotAllowed}},
		{fiber.ErrBadGateway, ok}, // not the transport's: Fiber's DefaultErrorHandler
	} {
		fc := app.AcquireCtx(&fasthttp.RequestCtx{})
		_ = ts.h.ErrorHandler(fc, c.err)
		if got := fc.Context().Response.StatusCode(); got != c.err.(*fiber.Error).Code {
			t.Errorf("ErrorHandler(%v): status %d", c.err, got)
		}
		app.ReleaseCtx(fc)
		rec.expect(t, "ErrorHandler("+c.err.Error()+")", c.want)
	}

	// The Handler's own body limit (a Handler served without NewApp's).
	ctx := newRequestCtx(fasthttp.MethodPost, big, "Content-Type", ctJSONValue, "Accept", acceptBoth, "Mcp-Session-Id", sid)
	ts.h.ServeFastHTTP(ctx)
	if got := ctx.Response.StatusCode(); got != 413 {
		t.Errorf("POST over MaxBodyBytes: status %d, want 413", got)
	}
	rec.expect(t, "POST over MaxBodyBytes", observed{413, RefusalTooLarge})
}

// TestRefusalObservedLimits checks the 503s past the session cap and
// while draining, and the 404 of a session ended under a POST.
func TestRefusalObservedLimits(t *testing.T) {
	rec := &refusalRecorder{}
	ts := newTestServer(t, &Options{Observer: rec, Sessions: sessions.Options{MaxSessions: 1}})
	sid := ts.initialize(t, mcp.Version20251125)
	rec.take()
	statusCase{name: "past MaxSessions", method: "POST", body: initBody(mcp.Version20251125), status: 503}.check(t, ts)
	rec.expect(t, "past MaxSessions", observed{503, RefusalUnavailable})

	g := ts.gate("drain")
	call := ts.doAsync(t, http.MethodPost, sid, callBody(2, "block", `{"gate":"drain"}`))
	g.waitStarted(t)
	shut := make(chan error, 1)
	go func() { // owner: this test; exit: Shutdown returns (the call is released below)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- ts.h.Shutdown(ctx, 50*time.Millisecond)
	}()
	waitFor(t, 5*time.Second, func() error {
		if !ts.h.Draining() {
			return errors.New("not draining yet")
		}
		return nil
	})
	for _, c := range []statusCase{
		{name: "initialize while draining", method: "POST", body: initBody(mcp.Version20251125), status: 503},
		{name: "GET while draining", method: "GET", sid: sid, hdr: []string{"Last-Event-ID", "0_0"}, status: 503},
		{name: "modern while draining", method: "POST", body: pingBody, hdr: []string{"MCP-Protocol-Version", "2026-07-28"}, status: 503},
	} {
		c.check(t, ts)
		rec.expect(t, c.name, observed{503, RefusalUnavailable})
	}
	g.Release()
	await(t, call)
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	rec.take()
	statusCase{name: "after Shutdown", method: "POST", sid: sid, body: pingBody, status: 404}.check(t, ts)
	rec.expect(t, "after Shutdown", observed{404, RefusalSessionNotFound})
}

// TestRefusalTable checks every entry of the refusal table: a 4xx or 503
// status, a reason, a prebuilt body that is the entry's error with
// "id":null, Allow on every 405 and only there, Retry-After on every 503.
func TestRefusalTable(t *testing.T) {
	ownBody := map[refusalKind]bool{ // writers always bring the error
		refuseInvalidMessage: true, refuseModernUnsupported: true,
		refuseModernMethodNotFound: true, refuseModernInvalid: true,
	}
	for k := refuseNone + 1; k < numRefusalKinds; k++ {
		r := refusals[k]
		if r.status < 400 || r.status >= 500 && r.status != http.StatusServiceUnavailable {
			t.Errorf("refusals[%d]: status %d, want 4xx or 503", k, r.status)
		}
		if int(r.reason) >= NumRefusals {
			t.Errorf("refusals[%d]: reason %d out of range", k, r.reason)
		}
		if (r.allow != "") != (r.status == http.StatusMethodNotAllowed && k != refuseRouteMethod) { // the router sets its own Allow
			t.Errorf("refusals[%d]: status %d with Allow %q", k, r.status, r.allow)
		}
		if r.retryAfter != (r.status == http.StatusServiceUnavailable) {
			t.Errorf("refusals[%d]: status %d with retryAfter %v", k, r.status, r.retryAfter)
		}
		if ownBody[k] {
			if r.err != nil || r.body != nil {
				t.Errorf("refusals[%d]: an error of its own (%v), want none", k, r.err)
			}
			continue
		}
		if r.err == nil {
			t.Errorf("refusals[%d]: no error", k)
			continue
		}
		if e := decodeError(t, r.body); e.Error.Code != r.err.Code || e.Error.Message != r.err.Message || string(e.ID) != "null" {
			t.Errorf("refusals[%d]: body %s, want %v with id null", k, r.body, r.err)
		}
	}
	if r := refusals[refuseNone]; r.status != 0 || r.err != nil || r.body != nil {
		t.Errorf("refusals[refuseNone] = %+v, want the zero refusal", r)
	}
}

// TestModernRefusal checks the status a 2026-07-28 error response is sent
// with, by code (2026-07-28 basic/transports).
func TestModernRefusal(t *testing.T) {
	for _, c := range []struct {
		code   int64
		status int
	}{
		{jsonrpc.CodeMethodNotFound, 404},
		{jsonrpc.CodeInvalidParams, 400},
		{jsonrpc.CodeInvalidRequest, 400},
		{jsonrpc.CodeParseError, 400},
		{mcp.CodeHeaderMismatch, 400},
		{mcp.CodeMissingRequiredClientCapability, 400},
		{mcp.CodeUnsupportedProtocolVersion, 400},
		{jsonrpc.CodeInternalError, 200},
		{jsonrpc.CodeServerError, 200},
		{mcp.CodeResourceNotFound, 200},
	} {
		status := http.StatusOK
		if k := modernRefusal(c.code); k != refuseNone {
			status = refusals[k].status
		}
		if status != c.status {
			t.Errorf("modernRefusal(%d): status %d, want %d", c.code, status, c.status)
		}
	}
}

// TestRawRefusal checks the ConnListener's prebuilt 503, built from its
// table entry, as an HTTP client reads it.
func TestRawRefusal(t *testing.T) {
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(bytes.NewReader(refusedResponse))); err != nil {
		t.Fatalf("refusedResponse %q: %v", refusedResponse, err)
	}
	if resp.StatusCode() != http.StatusServiceUnavailable || string(resp.Header.Peek("Retry-After")) != strconv.Itoa(int(DefaultRetryAfter/time.Second)) ||
		!resp.ConnectionClose() || string(resp.Header.ContentType()) != ctJSONValue || string(resp.Body()) != string(refusals[refuseConnections].body) {
		t.Errorf("refusedResponse = %q", refusedResponse)
	}
}

// A sentinelBackend's Initialize returns err (a copy of a sentinel, or
// another error).
type sentinelBackend struct {
	*mcp.Server
	err *jsonrpc.Error
}

func (b sentinelBackend) Initialize(json.RawMessage) ([]byte, mcp.Conn, *jsonrpc.Error) {
	return nil, nil, b.err
}

// TestUnavailableByValue checks that a backend's ErrUnavailable is matched
// by code and message, not by pointer: a copy gets 503 with Retry-After;
// another -32000 error is the initialize's answer (200).
func TestUnavailableByValue(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    *jsonrpc.Error
		status int
	}{
		{"ErrUnavailable", mcp.ErrUnavailable, 503},
		{"a copy", &jsonrpc.Error{Code: mcp.ErrUnavailable.Code, Message: mcp.ErrUnavailable.Message}, 503},
		{"another -32000", jsonrpc.NewError(jsonrpc.CodeServerError, "no"), 200},
	} {
		rec := &refusalRecorder{}
		srv := mcp.NewServer(mcp.Implementation{Name: "t", Version: "1"}, nil)
		h := NewHandler(sentinelBackend{srv, c.err}, &Options{Observer: rec, Logger: discardLogger})
		ctx := newRequestCtx(fasthttp.MethodPost, []byte(initBody(mcp.Version20251125)), "Content-Type", ctJSONValue, "Accept", acceptBoth)
		h.ServeFastHTTP(ctx)
		_ = h.Shutdown(context.Background(), 0)
		if got := ctx.Response.StatusCode(); got != c.status {
			t.Errorf("%s: status %d, want %d (body %s)", c.name, got, c.status, ctx.Response.Body())
		}
		if e := decodeError(t, ctx.Response.Body()); e.Error.Message != c.err.Message || string(e.ID) != "0" {
			t.Errorf("%s: body %s, want the error with the initialize's id", c.name, ctx.Response.Body())
		}
		want := observed{}
		if c.status == 503 {
			want = observed{503, RefusalUnavailable}
			if got := string(ctx.Response.Header.Peek("Retry-After")); got == "" {
				t.Errorf("%s: no Retry-After", c.name)
			}
		}
		rec.expect(t, c.name, want)
	}
}

// TestNoResponseByValue checks that the exchange sends nothing for
// mcp.ErrNoResponse, in both eras, matched by value: a copy of it is no
// response too.
func TestNoResponseByValue(t *testing.T) {
	ts, app := newInProcess(t, nil)
	s := ts.h.Sessions().Lookup(initializeInProcess(t, app, mcp.Version20251125))
	for _, jerr := range []*jsonrpc.Error{mcp.ErrNoResponse, {Code: mcp.ErrNoResponse.Code, Message: mcp.ErrNoResponse.Message}} {
		for _, era := range []struct {
			name string
			s    *sessions.Session
		}{{"2026-07-28", nil}, {"session", s}} {
			ex := ts.h.newExchange(era.s, 1, false, true, false)
			ex.complete([]byte("1"), nil, jerr)
			if ex.mode != modeJSON || len(ex.buffered) != 0 || ex.refusal != refuseNone {
				t.Errorf("%s: exchange.complete(%v): mode %d, %d responses, refusal %d; want JSON with none", era.name, jerr, ex.mode, len(ex.buffered), ex.refusal)
			}
		}
	}
}

// TestNoRouteEchoesNothing: a path the app has no route for gets 404 with
// a JSON-RPC error body that does not echo the path (Fiber's own answer
// was text/plain "Cannot GET /<path>").
func TestNoRouteEchoesNothing(t *testing.T) {
	ts := newTestServer(t, nil)
	u := strings.TrimSuffix(ts.url, ts.h.Options().Path) + "/nope%3Cscript%3E"
	resp, err := ts.client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound || mediaType(resp.Header.Get("Content-Type")) != ctJSONValue {
		t.Fatalf("GET an unknown path: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	if strings.Contains(strings.ToLower(string(b)), "nope") || strings.Contains(string(b), "script") {
		t.Errorf("the 404 echoes the path: %s", b)
	}
	if e := decodeError(t, b); e.Error == nil || e.Error.Code != jsonrpc.CodeServerError {
		t.Errorf("the 404's body is %s, want a JSON-RPC error", b)
	}
}
