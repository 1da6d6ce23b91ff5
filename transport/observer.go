package transport

import (
	"time"

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
	// Refused is called once for each response the transport refuses
	// with a 4xx or 503 status of its own (not JSON-RPC errors of the
	// backend answered with 200; 2026-07-28 errors sent with 404 or 400
	// are counted): the status and why. The transport's refusal table
	// gives both; the writer calls Refused as it writes the response.
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
// [Observer.Refused]): the metric label of an entry of the transport's
// refusal table (errors.go), several of which may share one.
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
	RefusalUnauthorized                        // 401: no access token, or an invalid one (Options.Auth)
	RefusalInsufficientScope                   // 403: the access token lacks a scope the request needs

	// NumRefusals is the number of reasons, for tables indexed by them.
	NumRefusals = int(RefusalInsufficientScope) + 1
)

var refusalNames = [NumRefusals]string{
	"other", "session_not_found", "method_not_found", "session_required", "bad_protocol_version",
	"bad_event_id", "bad_request", "forbidden_origin", "method_not_allowed", "not_acceptable",
	"conflict", "too_large", "unsupported_media_type", "unavailable",
	"unauthorized", "insufficient_scope",
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

// Interface guard.
var _ Observer = NopObserver{}
