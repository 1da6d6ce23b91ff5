package transport

import (
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// An Observer is told what a [Handler] does, for metrics
// (Options.Observer; [metrics.Metrics] is one). Its methods run on the
// request paths, the 404 fast path included: they must be safe for
// concurrent use, must not block, and should not allocate (the 404 path
// stays at zero allocations with an Observer that does not;
// TestNotFoundAllocsObserved). The default does nothing.
type Observer interface {
	// SessionStarted is called when initialize has started a session.
	SessionStarted()
	// SessionEnded is called once for every session that ends, with why
	// (a backend that closes its session's state gives sessions.EndClosed).
	SessionEnded(reason sessions.EndReason)
	// Refused is called for each response the transport refuses with a
	// 4xx or 503 status of its own (not JSON-RPC errors of the backend
	// answered with 200): the status and why.
	Refused(status int, reason Refusal)
	// StreamOpened and StreamClosed bracket each SSE response while its
	// writer runs. standalone reports a session's GET stream (stream 0),
	// as opposed to the stream of one POST's requests.
	StreamOpened(standalone bool)
	StreamClosed(standalone bool)
	// Request is called when the backend has answered one JSON-RPC
	// request (initialize included): its method, as the client spelled it
	// (a label set built from it must be bounded by the Observer), how long
	// the backend took, and whether the answer was an error (a cancelled
	// request counts as one).
	Request(method string, took time.Duration, failed bool)
}

// A Refusal says why the transport refused a request (see
// [Observer.Refused]).
type Refusal uint8

// The reasons, with the status they go with. String gives the metric
// label.
const (
	RefusalOther                Refusal = iota // a status not listed below
	RefusalSessionNotFound                     // 404: unknown or ended session
	RefusalMethodNotFound                      // 404: a 2026-07-28 request for an unknown method
	RefusalSessionRequired                     // 400: no Mcp-Session-Id
	RefusalBadProtocolVersion                  // 400: unsupported MCP-Protocol-Version
	RefusalBadEventID                          // 400: Last-Event-ID names no resumable event
	RefusalBadRequest                          // 400: invalid JSON or JSON-RPC, batch rules, version errors
	RefusalForbiddenOrigin                     // 403: Origin not allowed
	RefusalMethodNotAllowed                    // 405: not POST, GET or DELETE (or GET/DELETE at 2026-07-28)
	RefusalNotAcceptable                       // 406: Accept admits no answer type
	RefusalConflict                            // 409: a second GET stream
	RefusalTooLarge                            // 413: body over MaxBodyBytes
	RefusalUnsupportedMediaType                // 415: Content-Type not application/json
	RefusalUnavailable                         // 503: session or backend cap, or draining
	RefusalEventsGone                          // 400: events after Last-Event-ID dropped (event log budgets)

	// NumRefusals is the number of reasons, for tables indexed by them.
	NumRefusals = int(RefusalEventsGone) + 1
)

var refusalNames = [NumRefusals]string{
	"other", "session_not_found", "method_not_found", "session_required", "bad_protocol_version",
	"bad_event_id", "bad_request", "forbidden_origin", "method_not_allowed", "not_acceptable",
	"conflict", "too_large", "unsupported_media_type", "unavailable", "events_gone",
}

// String returns the reason's snake_case label, e.g. "session_not_found".
func (r Refusal) String() string {
	if int(r) < NumRefusals {
		return refusalNames[r]
	}
	return "other"
}

// NopObserver is an [Observer] that does nothing: the default.
type NopObserver struct{}

func (NopObserver) SessionStarted()                     {}
func (NopObserver) SessionEnded(sessions.EndReason)     {}
func (NopObserver) Refused(int, Refusal)                {}
func (NopObserver) StreamOpened(bool)                   {}
func (NopObserver) StreamClosed(bool)                   {}
func (NopObserver) Request(string, time.Duration, bool) {}

// handle runs c on its session's conn and reports it to the Observer.
func (h *Handler) handle(conn mcp.Conn, c *mcp.Call) ([]byte, *jsonrpc.Error) {
	start := time.Now()
	result, jerr := conn.Handle(c)
	h.opts.Observer.Request(c.Method, time.Since(start), jerr != nil)
	return result, jerr
}

// handleStateless runs a 2026-07-28 request and reports it to the
// Observer.
func (h *Handler) handleStateless(sb mcp.StatelessBackend, c *mcp.StatelessCall) ([]byte, *jsonrpc.Error) {
	start := time.Now()
	result, jerr := sb.HandleStateless(c)
	h.opts.Observer.Request(c.Method, time.Since(start), jerr != nil)
	return result, jerr
}

// observe reports a refusal written to ctx, if it is one. It runs after
// every request ServeFastHTTP serves, so it classifies the prebuilt bodies
// by identity and otherwise by status. It does not allocate.
func (h *Handler) observe(ctx *fasthttp.RequestCtx) {
	if _, nop := h.opts.Observer.(NopObserver); nop {
		return
	}
	code := ctx.Response.StatusCode()
	if code < 400 || code >= 500 && code != fasthttp.StatusServiceUnavailable || ctx.Response.IsBodyStream() {
		return
	}
	h.opts.Observer.Refused(code, refusalOf(code, ctx.Response.Body()))
}

// refusalOf classifies a refusal by its body (one of the prebuilt ones,
// compared by identity) or else by its status.
func refusalOf(code int, body []byte) Refusal {
	switch {
	case same(body, bodySessionNotFound):
		return RefusalSessionNotFound
	case same(body, bodySessionRequired):
		return RefusalSessionRequired
	case same(body, bodyBadVersion):
		return RefusalBadProtocolVersion
	case same(body, bodyBadEventID):
		return RefusalBadEventID
	case same(body, bodyEventsGone):
		return RefusalEventsGone
	case same(body, bodyForbiddenOrigin):
		return RefusalForbiddenOrigin
	case same(body, bodyUnsupportedMedia):
		return RefusalUnsupportedMediaType
	case same(body, bodyConflict):
		return RefusalConflict
	}
	switch code {
	case fasthttp.StatusBadRequest:
		return RefusalBadRequest
	case fasthttp.StatusNotFound:
		return RefusalMethodNotFound
	case fasthttp.StatusMethodNotAllowed:
		return RefusalMethodNotAllowed
	case fasthttp.StatusNotAcceptable:
		return RefusalNotAcceptable
	case fasthttp.StatusRequestEntityTooLarge:
		return RefusalTooLarge
	case fasthttp.StatusUnsupportedMediaType:
		return RefusalUnsupportedMediaType
	case fasthttp.StatusServiceUnavailable:
		return RefusalUnavailable
	}
	return RefusalOther
}

// same reports whether a and b are the same memory (a prebuilt body set
// with SetBodyRaw).
func same(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}

// Interface guard.
var _ Observer = NopObserver{}
