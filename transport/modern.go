package transport

import (
	"bytes"
	"context"
	"strings"

	json "github.com/goccy/go-json"
	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// serveModern answers a POST of a 2026-07-28 client (basic/transports):
// one request or notification per POST, no session (Mcp-Session-Id and
// Last-Event-ID are ignored), the answer as application/json or, once the
// request sends a notification first, as text/event-stream. The backend
// must implement [mcp.StatelessBackend]; otherwise the revision is
// unsupported (400, -32022).
//
// Errors travel with the HTTP status 2026-07-28 gives them: -32601 is 404;
// -32602, -32020, -32021 and -32022 are 400; all carry the request's id,
// as application/json, unless the response had already turned into an
// SSE stream. The request goes through an [exchange], as a session's do;
// its SSE answer has no event IDs and is not resumable. Closing it cancels
// the request, and so does a client that falls maxQueuedEvents behind.
//
// A request that runs on a worker counts against Options.MaxInflight (past
// it: 503, Retry-After, -32000 with the request's id) and is cancelled
// past Options.CallTimeout, the client getting a -32000 error in place of
// its response; subscriptions/listen streams have no deadline (limits.go).
func (h *Handler) serveModern(ctx *fasthttp.RequestCtx, body []byte) {
	sb, ok := h.backend.(mcp.StatelessBackend)
	if !ok {
		h.modernUnsupported(ctx, body)
		return
	}
	msgs, batch, derr := jsonrpc.Decode(body)
	if derr != nil {
		h.refuseError(ctx, refuseInvalidMessage, nil, derr)
		return
	}
	if batch {
		h.refuse(ctx, refuseModernBatch)
		return
	}
	m := msgs[0]
	if h.auth != nil && !h.authorizeCalls(ctx, principalOf(ctx), msgs) {
		return
	}
	if m.Kind != jsonrpc.KindRequest {
		// Notifications and responses: accepted, nothing to answer
		// (basic/transports §Sending Messages, item 5). Core 2026-07-28
		// defines no client notification on HTTP.
		ctx.Response.SetStatusCode(fasthttp.StatusAccepted)
		return
	}
	acceptJSON, acceptSSE := parseAccept(ctx.Request.Header.Peek(fasthttp.HeaderAccept))
	listen := m.Method == mcp.MethodSubscriptionsListen
	if listen && !acceptSSE {
		h.refuseError(ctx, refuseListenNotSSE, m.ID, nil)
		return
	}
	if h.draining.Load() {
		h.refuseError(ctx, refuseDraining, m.ID, nil)
		return
	}

	inline := sb.InlineStateless(m.Method) || h.inliner != nil && h.inliner.InlineCall(m.Method, m.Params)
	if !inline {
		// Admission (limits.go): a 2026-07-28 request has no session; it
		// counts against the server's cap.
		if jerr := h.admit(nil, 1); jerr != nil {
			h.refuseError(ctx, refuseUnavailable, m.ID, jerr)
			return
		}
	}
	cctx, cancel := context.WithCancel(context.Background()) // the exchange's end cancels it, at Shutdown too (limits.go)
	ex := h.newExchange(nil, 1, false, acceptSSE && (listen || !h.opts.JSONResponse || !acceptJSON), false)
	ex.cancel, ex.listen = cancel, listen
	call := &mcp.StatelessCall{
		Method:    m.Method,
		ID:        m.ID,
		Params:    m.Params,
		Headers:   mcpHeaders(&ctx.Request.Header),
		Out:       ex,
		Context:   cctx,
		Draining:  h.drain,
		Principal: principalOf(ctx),
	}
	if inline {
		result, jerr := h.handleStateless(sb, call)
		ex.complete(m.ID, result, jerr)
		cancel()
	} else {
		h.startCall(&flight{h: h, ex: ex, sb: sb, sc: call})
	}
	h.reply(ctx, ex)
}

// modernUnsupported answers a 2026-07-28 request for a backend that only
// serves sessions: UnsupportedProtocolVersionError listing the legacy
// revisions (2026-07-28 basic/versioning).
func (h *Handler) modernUnsupported(ctx *fasthttp.RequestCtx, body []byte) {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	_ = jsonrpc.Unmarshal(body, &m)
	requested := string(ctx.Request.Header.Peek(headerVersion))
	data, _ := jsonrpc.Marshal(map[string]any{"supported": mcp.LegacyVersions, "requested": requested})
	h.refuseError(ctx, refuseModernUnsupported, m.ID, &jsonrpc.Error{
		Code:    jsonrpc.CodeUnsupportedProtocolVersion,
		Message: "Unsupported protocol version: this server serves 2025-11-25, 2025-06-18 and 2025-03-26 with sessions",
		Data:    data,
	})
}

// mcpHeaders copies the request's MCP headers (MCP-Protocol-Version,
// Mcp-Method, Mcp-Name, Mcp-Param-*) by lower-case name; of a repeated
// header the first value counts.
func mcpHeaders(hdr *fasthttp.RequestHeader) map[string]string {
	out := make(map[string]string, 4)
	for k, v := range hdr.All() {
		if len(k) < 4 || !bytes.EqualFold(k[:4], []byte("mcp-")) {
			continue
		}
		name := strings.ToLower(string(k))
		if _, dup := out[name]; !dup {
			out[name] = string(v)
		}
	}
	return out
}
