package transport

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

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
		{fiber.ErrNotFound, ok},
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
