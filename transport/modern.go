package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"time"

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
// SSE stream. Closing an SSE response cancels the request.
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

	inline := sb.InlineStateless(m.Method)
	if !inline {
		// Admission (limits.go): a 2026-07-28 request has no session; it
		// counts against the server's cap.
		if jerr := h.admit(nil, 1); jerr != nil {
			h.refuseError(ctx, refuseUnavailable, m.ID, jerr)
			return
		}
	}
	cctx, cancel := context.WithCancel(context.Background()) // a flight's end cancels it, at Shutdown too (limits.go)
	ex := &modernExchange{
		allowSSE: acceptSSE && (listen || !h.opts.JSONResponse || !acceptJSON),
		listen:   listen,
		wake:     make(chan struct{}, 1),
		decided:  make(chan struct{}),
		cancel:   cancel,
	}
	call := &mcp.StatelessCall{
		Method:   m.Method,
		ID:       m.ID,
		Params:   m.Params,
		Headers:  mcpHeaders(&ctx.Request.Header),
		Out:      ex,
		Context:  cctx,
		Draining: h.drain,
	}
	if inline {
		result, jerr := h.handleStateless(sb, call)
		ex.complete(m.ID, result, jerr)
		cancel()
	} else {
		h.startModern(sb, call, ex, cancel)
	}
	<-ex.decided
	if ex.mode == modeJSON {
		if ex.resp == nil {
			// Cancelled before it answered: nothing to send.
			ctx.Response.SetStatusCode(fasthttp.StatusAccepted)
			return
		}
		if ex.refusal != refuseNone {
			h.refuseWith(ctx, ex.refusal, ex.resp)
			return
		}
		ctx.Response.SetStatusCode(fasthttp.StatusOK)
		ctx.Response.Header.SetContentTypeBytes(ctJSON)
		ctx.Response.SetBody(ex.resp)
		return
	}
	ctx.Response.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentTypeBytes(ctEventStream)
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-cache, no-transform")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	h.writers.Add(1)
	sw := sseWriter{conn: ctx.Conn(), timeout: h.opts.WriteTimeout}
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer h.writers.Done()
		h.opts.Observer.StreamOpened(false)
		defer h.opts.Observer.StreamClosed(false)
		sw.w = w
		h.writeModernSSE(&sw, ex)
	})
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

// A modernExchange is one 2026-07-28 POST: it carries what the request
// sends before its response and decides once whether the POST is answered
// with application/json (nothing was sent first) or an SSE stream. It
// implements [mcp.Outbound].
type modernExchange struct {
	allowSSE bool
	listen   bool // a subscriptions/listen stream: long-lived

	wake    chan struct{} // signalled when events are queued or the exchange finishes
	decided chan struct{} // closed once mode is set
	cancel  context.CancelFunc

	mu       sync.Mutex // guards the fields below
	mode     uint8
	events   [][]byte    // queued for the SSE writer
	finished bool        // the response (or the cancellation) is in
	gone     bool        // the client closed the stream
	resp     []byte      // JSON mode: the response
	refusal  refusalKind // JSON mode: the refusal it is sent as (an error with a status of its own), or refuseNone (200)
}

var (
	errStreamGone = errors.New("transport: the response stream has ended")
	errSlowReader = errors.New("transport: the client does not read its stream; it was closed")
)

// maxQueuedEvents bounds the messages waiting for a 2026-07-28 SSE
// stream's writer: a client that stops reading has its stream closed (and
// its request cancelled) rather than the server buffering without end.
const maxQueuedEvents = 4096

// Send queues a message for the SSE stream, turning the exchange into one
// if it was undecided. It never blocks. Without an SSE stream (the client
// accepts only JSON) the message is dropped.
func (ex *modernExchange) Send(msg []byte) error {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.gone || ex.finished {
		return errStreamGone
	}
	switch ex.mode {
	case modeUndecided:
		if !ex.allowSSE {
			return nil
		}
		ex.mode = modeSSE
		close(ex.decided)
	case modeJSON:
		return errStreamGone
	}
	if len(ex.events) >= maxQueuedEvents {
		ex.gone, ex.events = true, nil
		ex.cancel()
		ex.signal()
		return errSlowReader
	}
	ex.events = append(ex.events, msg)
	ex.signal()
	return nil
}

func (ex *modernExchange) signal() {
	select {
	case ex.wake <- struct{}{}:
	default:
	}
}

// complete records the answer: a result, an error, or nothing when the
// request was cancelled.
func (ex *modernExchange) complete(id []byte, result []byte, jerr *jsonrpc.Error) {
	var resp []byte
	refusal := refuseNone
	switch {
	case jerr == nil:
		resp = jsonrpc.AppendResult(nil, id, result)
	case errors.Is(jerr, mcp.ErrNoResponse):
	default:
		resp = jsonrpc.AppendError(nil, id, jerr)
		refusal = modernRefusal(jerr.Code)
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.finished = true
	switch ex.mode {
	case modeUndecided:
		ex.mode, ex.resp, ex.refusal = modeJSON, resp, refusal
		close(ex.decided)
	case modeSSE:
		if resp != nil && !ex.gone {
			ex.events = append(ex.events, resp)
		}
		ex.signal()
	}
}

// abort records that the client is gone and cancels the request.
func (ex *modernExchange) abort() {
	ex.mu.Lock()
	ex.gone = true
	ex.events = nil
	ex.mu.Unlock()
	ex.cancel()
}

// writeModernSSE streams the exchange's messages as SSE events, flushing
// each batch at once (subscriptions/listen needs its frames now). No
// event IDs: 2026-07-28 streams are not resumable. A subscriptions/listen
// stream always gets keep-alive comments (DefaultKeepAlive when
// Options.KeepAlive is off), since only a failed write reveals a client
// that went away. Its exits: the response is written; a write fails (the
// client closed the stream, or read nothing for Options.WriteTimeout;
// either cancels the request); the client fell maxQueuedEvents behind;
// Shutdown halts it (after answering the request with an error at the end
// of the grace period, which this writer sends first).
func (h *Handler) writeModernSSE(w *sseWriter, ex *modernExchange) {
	interval := h.opts.KeepAlive
	if ex.listen && interval <= 0 {
		interval = DefaultKeepAlive
	}
	var keepAlive <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		keepAlive = t.C
	}
	for {
		ex.mu.Lock()
		evs, finished, gone := ex.events, ex.finished, ex.gone
		ex.events = nil
		ex.mu.Unlock()
		if gone {
			return
		}
		for _, e := range evs {
			if w.write(modernEventHead) != nil || w.write(e) != nil || w.write(eventEnd) != nil {
				ex.abort()
				return
			}
		}
		if len(evs) > 0 {
			if w.flush() != nil {
				ex.abort()
				return
			}
		}
		if finished {
			return
		}
		select {
		case <-ex.wake:
		case <-keepAlive:
			if w.write([]byte(keepAliveComment)) != nil || w.flush() != nil {
				ex.abort()
				return
			}
		case <-h.halt:
			ex.abort()
			return
		}
	}
}

// The framing of a 2026-07-28 SSE event: no event ID (not resumable).
var (
	modernEventHead = []byte("event: message\ndata: ")
	eventEnd        = []byte("\n\n")
)
