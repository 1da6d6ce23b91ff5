package transport

import (
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// Prebuilt JSON-RPC error bodies for the transport's refusals, written
// without allocating. Each is an error response with "id":null, the form
// 2025-11-25 basic/transports allows for errors not tied to a request.
var (
	// bodySessionNotFound is sent with 404 for an unknown or ended session
	// (2025-11-25 basic/transports §Session Management).
	bodySessionNotFound = []byte(`{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}`)

	bodySessionRequired  = errorBody(jsonrpc.CodeServerError, "Bad Request: Mcp-Session-Id header is required")
	bodyForbiddenOrigin  = errorBody(jsonrpc.CodeServerError, "Forbidden: Origin not allowed")
	bodyNotAcceptable    = errorBody(jsonrpc.CodeServerError, "Not Acceptable: Client must accept application/json or text/event-stream")
	bodyNotAcceptableSSE = errorBody(jsonrpc.CodeServerError, "Not Acceptable: Client must accept text/event-stream")
	bodyUnsupportedMedia = errorBody(jsonrpc.CodeServerError, "Unsupported Media Type: Content-Type must be application/json")
	bodyTooLarge         = errorBody(jsonrpc.CodeServerError, "Payload Too Large: the body exceeds the server's limit")
	bodyMethodNotAllowed = errorBody(jsonrpc.CodeServerError, "Method Not Allowed")
	bodyBadVersion       = errorBody(jsonrpc.CodeServerError, "Bad Request: Unsupported protocol version in MCP-Protocol-Version (supported: 2025-11-25, 2025-06-18, 2025-03-26)")
	bodyConflict         = errorBody(jsonrpc.CodeServerError, "Conflict: Only one SSE stream is allowed per session")
	bodyBadEventID       = errorBody(jsonrpc.CodeServerError, "Bad Request: Last-Event-ID names no event of a stream this session can resume")
	bodyEventsGone       = errorBody(jsonrpc.CodeServerError, "Bad Request: the events after this Last-Event-ID are no longer kept (event log budget); the stream cannot be resumed")
	bodyBatchInit        = errorBody(jsonrpc.CodeInvalidRequest, "Invalid Request: initialize must not be part of a JSON-RPC batch")
	bodyBatchVersion     = errorBody(jsonrpc.CodeInvalidRequest, "Invalid Request: JSON-RPC batches are only accepted in sessions at protocol version 2025-03-26")
	bodyDraining         = errorBody(jsonrpc.CodeServerError, "Service Unavailable: the server is shutting down")
	bodySessionEnded     = bodySessionNotFound
	bodyModernGET        = errorBody(jsonrpc.CodeServerError, "Method Not Allowed: protocol version 2026-07-28 has no GET or DELETE; POST only")

	// Request framing (RFC 9112 §5.2, §6.1, §6.3): sent with 400 and
	// Connection: close (see badFraming).
	bodyTEWithCL     = errorBody(jsonrpc.CodeServerError, "Bad Request: Transfer-Encoding and Content-Length in one request")
	bodyObsFold      = errorBody(jsonrpc.CodeServerError, "Bad Request: obsolete line folding in a header field")
	bodyTENotHTTP11  = errorBody(jsonrpc.CodeServerError, "Bad Request: Transfer-Encoding in a request that is not HTTP/1.1")
	bodyTENotChunked = errorBody(jsonrpc.CodeServerError, "Bad Request: Transfer-Encoding other than chunked")

	// What fasthttp refuses before a handler runs (see ServerErrorHandler).
	bodyMalformed      = errorBody(jsonrpc.CodeServerError, "Bad Request: malformed HTTP request")
	bodyRequestTimeout = errorBody(jsonrpc.CodeServerError, "Request Timeout: the request was not received in time")
	bodyURITooLong     = errorBody(jsonrpc.CodeServerError, "URI Too Long: the request line exceeds the server's limit")
	bodyHeaderTooLarge = errorBody(jsonrpc.CodeServerError, "Request Header Fields Too Large: the request line and headers exceed the server's limit")
)

// Content types and header values, as bytes so that setting them does not
// allocate.
var (
	ctJSON        = []byte("application/json")
	ctEventStream = []byte("text/event-stream")
	allowMethods  = "GET, POST, DELETE"
)

func errorBody(code int64, msg string) []byte {
	return jsonrpc.AppendError(nil, nil, jsonrpc.NewError(code, msg))
}

// reply writes status and a prebuilt JSON body. body must be immutable: it
// is referenced, not copied. It does not allocate.
func reply(ctx *fasthttp.RequestCtx, status int, body []byte) {
	ctx.Response.SetStatusCode(status)
	ctx.Response.Header.SetContentTypeBytes(ctJSON)
	ctx.Response.SetBodyRaw(body)
}

// replyError writes status and a JSON-RPC error for the request id (nil:
// null).
func replyError(ctx *fasthttp.RequestCtx, status int, id []byte, e *jsonrpc.Error) {
	ctx.Response.SetStatusCode(status)
	ctx.Response.Header.SetContentTypeBytes(ctJSON)
	ctx.Response.SetBody(jsonrpc.AppendError(nil, id, e))
}

// setRetryAfter sets Retry-After in whole seconds (at least 1).
func (h *Handler) setRetryAfter(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(max(1, int(h.opts.RetryAfter.Seconds()))))
}
