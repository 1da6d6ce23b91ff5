package transport

import (
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// Refusals. Every response the transport refuses a request with, a 4xx
// or a 503 of its own, is one entry of [refusals]: its status, its
// headers, its body and the reason the Observer is told. The writers
// ([Handler.refuse] and its variants) take the entry's kind, so that a
// refusal's status is written in one place and the Observer is called
// where the refusal is written, not guessed afterwards from the response.
// 2026-07-28 error responses that carry a status of their own are mapped
// onto kinds by code ([modernRefusal]). The ConnListener's 503 is built
// from its entry too ([rawRefusal]).

// A refusalKind names an entry of [refusals]. The zero kind, refuseNone,
// is no refusal.
type refusalKind uint8

const (
	refuseNone refusalKind = iota

	// Sessions (2025-11-25 basic/transports §Session Management).
	refuseSessionNotFound // 404: unknown or ended session
	refuseSessionRequired // 400: no Mcp-Session-Id

	// The request's headers and method.
	refuseForbiddenOrigin  // 403: Origin not allowed, or more than one
	refuseMethodNotAllowed // 405: not POST, GET or DELETE
	refuseModernGET        // 405: GET or DELETE at 2026-07-28
	refuseNotAcceptable    // 406: POST whose Accept admits no answer type
	refuseNotAcceptableSSE // 406: GET whose Accept does not admit text/event-stream
	refuseListenNotSSE     // 406: subscriptions/listen without text/event-stream (with the request's id)
	refuseTooLarge         // 413: body over MaxBodyBytes
	refuseUnsupportedMedia // 415: Content-Type not application/json
	refuseBadVersion       // 400: MCP-Protocol-Version no revision has

	// GET streams (2025-11-25 basic/transports §Resumability and Redelivery).
	refuseConflict   // 409: a second GET stream
	refuseBadEventID // 400: Last-Event-ID names no resumable event

	// The body.
	refuseInvalidMessage    // 400: not JSON, not JSON-RPC (the decoder's error)
	refuseBatchInit         // 400: initialize in a batch
	refuseBatchVersion      // 400: a batch in a session after 2025-03-26
	refuseModernBatch       // 400: a batch at 2026-07-28
	refuseModernUnsupported // 400: 2026-07-28 for a backend without StatelessBackend (-32022, with data)

	// 2026-07-28 error responses with a status of their own (see modernRefusal).
	refuseModernMethodNotFound // 404: -32601
	refuseModernInvalid        // 400: -32602, -32600, -32700, -32020, -32021, -32022

	// Capacity (limits.go; shutdown.go).
	refuseDraining    // 503: shutting down
	refuseUnavailable // 503: session cap, in-flight caps, a backend's ErrUnavailable
	refuseStoreDown   // 503: the session store cannot be reached (sessions.ErrStoreUnavailable)

	// Request framing (RFC 9112 §5.2, §6.1, §6.3): 400 and Connection:
	// close (see badFraming).
	refuseTEWithCL
	refuseObsFold
	refuseTENotHTTP11
	refuseTENotChunked

	// What fasthttp refuses before a handler runs (see ServerErrorHandler
	// and ErrorHandler).
	refuseMalformed      // 400
	refuseRequestTimeout // 408
	refuseURITooLong     // 414
	refuseHeaderTooLarge // 431

	// What the Fiber app's router refuses on the other paths (see
	// ErrorHandler): its own answers are text/plain and echo the path.
	refuseNoRoute     // 404: no route for the path
	refuseRouteMethod // 405: the path's routes take other methods (Fiber sets Allow)

	// The ConnListener's, past ListenerOptions.MaxConnections (see
	// refusedResponse).
	refuseConnections // 503

	// Authorization (Options.Auth; auth.go): each with WWW-Authenticate.
	refuseUnauthorized      // 401: no access token
	refuseInvalidToken      // 401: a token that is malformed, expired, badly signed, for another issuer or audience
	refuseInsufficientScope // 403: a valid token without a scope the request needs
	refuseTokenInQuery      // 400: access_token in the query string
	refuseAuthUnavailable   // 503: the token could not be checked (key set or introspection unreachable)

	numRefusalKinds
)

// A refusal is how one kind of refused request is answered.
type refusal struct {
	status int     // the HTTP status: 4xx or 503
	reason Refusal // told to the Observer with status; its String is the metric label
	// err is the JSON-RPC error sent, "id":null in body or with the
	// request's id (refuseError); nil for kinds whose writers always bring
	// their own error.
	err  *jsonrpc.Error
	body []byte // errorBody(err), built once; immutable (written with SetBodyRaw)

	allow      string // the Allow header, if not empty
	retryAfter bool   // Retry-After (Options.RetryAfter)
	close      bool   // Connection: close (fasthttp closes the connection after the response)
}

// refusals is the refusal table, indexed by kind. Bodies are JSON-RPC
// error responses with "id":null, the form 2025-11-25 basic/transports
// allows for errors not tied to a request. The statuses, codes and
// messages are what the MCP SDKs send (-32000 for the transport's own
// refusals, -32001 with 404).
var refusals = withBodies([numRefusalKinds]refusal{
	refuseSessionNotFound: {status: fasthttp.StatusNotFound, reason: RefusalSessionNotFound,
		err: jsonrpc.NewError(jsonrpc.CodeSessionNotFound, "Session not found")},
	refuseSessionRequired: {status: fasthttp.StatusBadRequest, reason: RefusalSessionRequired,
		err: refusalError("Bad Request: Mcp-Session-Id header is required")},

	refuseForbiddenOrigin: {status: fasthttp.StatusForbidden, reason: RefusalForbiddenOrigin,
		err: refusalError("Forbidden: Origin not allowed")},
	refuseMethodNotAllowed: {status: fasthttp.StatusMethodNotAllowed, reason: RefusalMethodNotAllowed, allow: "GET, POST, DELETE",
		err: refusalError("Method Not Allowed")},
	refuseModernGET: {status: fasthttp.StatusMethodNotAllowed, reason: RefusalMethodNotAllowed, allow: fasthttp.MethodPost,
		err: refusalError("Method Not Allowed: protocol version 2026-07-28 has no GET or DELETE; POST only")},
	refuseNotAcceptable: {status: fasthttp.StatusNotAcceptable, reason: RefusalNotAcceptable,
		err: refusalError("Not Acceptable: Client must accept application/json or text/event-stream")},
	refuseNotAcceptableSSE: {status: fasthttp.StatusNotAcceptable, reason: RefusalNotAcceptable,
		err: refusalError("Not Acceptable: Client must accept text/event-stream")},
	refuseListenNotSSE: {status: fasthttp.StatusNotAcceptable, reason: RefusalNotAcceptable,
		err: refusalError("Not Acceptable: subscriptions/listen answers with text/event-stream")},
	refuseTooLarge: {status: fasthttp.StatusRequestEntityTooLarge, reason: RefusalTooLarge,
		err: refusalError("Payload Too Large: the body exceeds the server's limit")},
	refuseUnsupportedMedia: {status: fasthttp.StatusUnsupportedMediaType, reason: RefusalUnsupportedMediaType,
		err: refusalError("Unsupported Media Type: Content-Type must be application/json")},
	refuseBadVersion: {status: fasthttp.StatusBadRequest, reason: RefusalBadProtocolVersion,
		err: refusalError("Bad Request: Unsupported protocol version in MCP-Protocol-Version (supported: 2025-11-25, 2025-06-18, 2025-03-26)")},

	refuseConflict: {status: fasthttp.StatusConflict, reason: RefusalConflict,
		err: refusalError("Conflict: Only one SSE stream is allowed per session")},
	refuseBadEventID: {status: fasthttp.StatusBadRequest, reason: RefusalBadEventID,
		err: refusalError("Bad Request: Last-Event-ID names no event of a stream this session can resume")},

	refuseInvalidMessage: {status: fasthttp.StatusBadRequest, reason: RefusalBadRequest},
	refuseBatchInit: {status: fasthttp.StatusBadRequest, reason: RefusalBadRequest,
		err: jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: initialize must not be part of a JSON-RPC batch")},
	refuseBatchVersion: {status: fasthttp.StatusBadRequest, reason: RefusalBadRequest,
		err: jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: JSON-RPC batches are only accepted in sessions at protocol version 2025-03-26")},
	// 2026-07-28 basic/transports: "The body of the HTTP POST MUST be a
	// single JSON-RPC request or notification".
	refuseModernBatch: {status: fasthttp.StatusBadRequest, reason: RefusalBadRequest,
		err: jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: 2026-07-28 takes one JSON-RPC message per POST, not a batch")},
	refuseModernUnsupported: {status: fasthttp.StatusBadRequest, reason: RefusalBadRequest},

	refuseModernMethodNotFound: {status: fasthttp.StatusNotFound, reason: RefusalMethodNotFound},
	refuseModernInvalid:        {status: fasthttp.StatusBadRequest, reason: RefusalBadRequest},

	refuseDraining: {status: fasthttp.StatusServiceUnavailable, reason: RefusalUnavailable, retryAfter: true,
		err: refusalError("Service Unavailable: the server is shutting down")},
	refuseUnavailable: {status: fasthttp.StatusServiceUnavailable, reason: RefusalUnavailable, retryAfter: true,
		err: refusalError("Service Unavailable: too many sessions")},
	refuseStoreDown: {status: fasthttp.StatusServiceUnavailable, reason: RefusalUnavailable, retryAfter: true,
		err: refusalError("Service Unavailable: the session store cannot be reached; the session is kept, try again later")},

	refuseTEWithCL: {status: fasthttp.StatusBadRequest, reason: RefusalBadRequest, close: true,
		err: refusalError("Bad Request: Transfer-Encoding and Content-Length in one request")},
	refuseObsFold: {status: fasthttp.StatusBadRequest, reason: RefusalBadRequest, close: true,
		err: refusalError("Bad Request: obsolete line folding in a header field")},
	refuseTENotHTTP11: {status: fasthttp.StatusBadRequest, reason: RefusalBadRequest, close: true,
		err: refusalError("Bad Request: Transfer-Encoding in a request that is not HTTP/1.1")},
	refuseTENotChunked: {status: fasthttp.StatusBadRequest, reason: RefusalBadRequest, close: true,
		err: refusalError("Bad Request: Transfer-Encoding other than chunked")},

	refuseMalformed: {status: fasthttp.StatusBadRequest, reason: RefusalBadRequest,
		err: refusalError("Bad Request: malformed HTTP request")},
	refuseRequestTimeout: {status: fasthttp.StatusRequestTimeout, reason: RefusalOther,
		err: refusalError("Request Timeout: the request was not received in time")},
	refuseURITooLong: {status: fasthttp.StatusRequestURITooLong, reason: RefusalOther,
		err: refusalError("URI Too Long: the request line exceeds the server's limit")},
	refuseHeaderTooLarge: {status: fasthttp.StatusRequestHeaderFieldsTooLarge, reason: RefusalOther,
		err: refusalError("Request Header Fields Too Large: the request line and headers exceed the server's limit")},

	refuseNoRoute: {status: fasthttp.StatusNotFound, reason: RefusalOther,
		err: refusalError("Not Found: no such path on this server")},
	refuseRouteMethod: {status: fasthttp.StatusMethodNotAllowed, reason: RefusalMethodNotAllowed,
		err: refusalError("Method Not Allowed")},

	refuseConnections: {status: fasthttp.StatusServiceUnavailable, reason: RefusalUnavailable, retryAfter: true, close: true,
		err: refusalError("Service Unavailable: too many connections")},

	refuseUnauthorized: {status: fasthttp.StatusUnauthorized, reason: RefusalUnauthorized,
		err: refusalError("Unauthorized: a Bearer access token is required")},
	refuseInvalidToken: {status: fasthttp.StatusUnauthorized, reason: RefusalUnauthorized,
		err: refusalError("Unauthorized: the access token is invalid, expired, or not for this server")},
	refuseInsufficientScope: {status: fasthttp.StatusForbidden, reason: RefusalInsufficientScope,
		err: refusalError("Forbidden: the access token lacks a scope this request needs")},
	refuseTokenInQuery: {status: fasthttp.StatusBadRequest, reason: RefusalBadRequest,
		err: refusalError("Bad Request: access tokens are accepted in the Authorization header only")},
	refuseAuthUnavailable: {status: fasthttp.StatusServiceUnavailable, reason: RefusalUnavailable, retryAfter: true,
		err: refusalError("Service Unavailable: the access token could not be verified")},
})

// refusalError returns a CodeServerError error with msg: the code the MCP
// SDKs send with the transport's refusals.
func refusalError(msg string) *jsonrpc.Error { return jsonrpc.NewError(jsonrpc.CodeServerError, msg) }

// withBodies fills in the prebuilt body of each refusal that has an
// error.
func withBodies(t [numRefusalKinds]refusal) [numRefusalKinds]refusal {
	for i := range t {
		if t[i].err != nil {
			t[i].body = errorBody(t[i].err)
		}
	}
	return t
}

// modernRefusals gives the refusal kind of a 2026-07-28 error response by
// its JSON-RPC code (2026-07-28 basic/transports: -32601 is 404; invalid
// params, invalid request, parse error, header mismatch, missing
// capability and unsupported version are 400). Other codes go with 200.
var modernRefusals = [...]struct {
	code int64
	kind refusalKind
}{
	{jsonrpc.CodeMethodNotFound, refuseModernMethodNotFound},
	{jsonrpc.CodeInvalidParams, refuseModernInvalid},
	{jsonrpc.CodeInvalidRequest, refuseModernInvalid},
	{jsonrpc.CodeParseError, refuseModernInvalid},
	{mcp.CodeHeaderMismatch, refuseModernInvalid},
	{mcp.CodeMissingRequiredClientCapability, refuseModernInvalid},
	{mcp.CodeUnsupportedProtocolVersion, refuseModernInvalid},
}

// modernRefusal returns the refusal kind a 2026-07-28 error response with
// code is sent as, or refuseNone (200).
func modernRefusal(code int64) refusalKind {
	for _, r := range modernRefusals {
		if r.code == code {
			return r.kind
		}
	}
	return refuseNone
}

// refuse answers with refusal k: its status, headers and prebuilt body,
// and tells the Observer. It does not allocate (TestNotFoundAllocs,
// TestNotFoundAllocsObserved).
func (h *Handler) refuse(ctx *fasthttp.RequestCtx, k refusalKind) {
	h.refuseWith(ctx, k, refusals[k].body)
}

// refuseError answers with refusal k and a body of its own: jerr (nil:
// k's error) for the request id (nil: null). It allocates the body.
func (h *Handler) refuseError(ctx *fasthttp.RequestCtx, k refusalKind, id []byte, jerr *jsonrpc.Error) {
	if jerr == nil {
		jerr = refusals[k].err
	}
	h.refuseWith(ctx, k, jsonrpc.AppendError(nil, id, jerr))
}

// refuseWith answers with refusal k's status and headers and body, and
// tells the Observer. body is referenced, not copied: it must not change
// afterwards. It does not allocate.
func (h *Handler) refuseWith(ctx *fasthttp.RequestCtx, k refusalKind, body []byte) {
	r := &refusals[k]
	ctx.Response.SetStatusCode(r.status)
	ctx.Response.Header.SetContentTypeBytes(ctJSON)
	if r.allow != "" {
		ctx.Response.Header.Set(fasthttp.HeaderAllow, r.allow)
	}
	if r.retryAfter {
		ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, h.lim.retryAfter)
	}
	if r.close {
		ctx.SetConnectionClose()
	}
	ctx.Response.SetBodyRaw(body)
	if h.observed {
		h.opts.Observer.Refused(r.status, r.reason)
	}
}

// rawRefusal returns the whole HTTP/1.1 response of refusal k, for a
// writer with no RequestCtx (the ConnListener), with Retry-After of
// retryAfter seconds when k has one.
func rawRefusal(k refusalKind, retryAfter int) []byte {
	r := &refusals[k]
	b := []byte("HTTP/1.1 " + strconv.Itoa(r.status) + " " + fasthttp.StatusMessage(r.status) + "\r\n" +
		"Content-Type: application/json\r\n")
	if r.allow != "" {
		b = append(b, "Allow: "+r.allow+"\r\n"...)
	}
	if r.retryAfter {
		b = append(b, "Retry-After: "+strconv.Itoa(retryAfter)+"\r\n"...)
	}
	if r.close {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "Content-Length: "+strconv.Itoa(len(r.body))+"\r\n\r\n"...)
	return append(b, r.body...)
}

// Content types, as bytes so that setting them does not allocate.
var (
	ctJSON        = []byte("application/json")
	ctEventStream = []byte("text/event-stream")
)

func errorBody(e *jsonrpc.Error) []byte {
	return jsonrpc.AppendError(nil, nil, e)
}
