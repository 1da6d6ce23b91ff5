package transport

import (
	"context"
	"errors"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// Exchange modes.
const (
	modeUndecided uint8 = iota
	modeJSON
	modeSSE
)

// An exchange is one POST that carries requests, in either era: a
// session's request or batch (post.go), or a 2026-07-28 request
// (modern.go). It collects the responses and what the requests send
// first, and decides once how the POST is answered (2025-11-25
// basic/transports §Sending Messages to the Server, item 5; 2026-07-28
// basic/transports):
//
//	undecided ─┬─ every request answered, nothing sent first ─▶ JSON: the responses as one body
//	           └─ a request sends something first ───────────▶ SSE: sink ─▶ writeSSE
//
// A client that accepts only SSE (legacy) starts in SSE mode. In SSE mode
// what the requests send, then their responses, go to the exchange's
// event sink, which the POST's SSE writer reads:
//
//   - a session's new POST stream ([sessions.Stream], through
//     streamSink): resumable, its events get IDs, and what is appended
//     after the client hung up waits in the stream's log for a resumption
//     with Last-Event-ID;
//   - at 2026-07-28, an [eventQueue]: ephemeral, no IDs, bounded by
//     maxQueuedEvents; when its writer stops (the client closed the
//     stream, or fell behind) the request is cancelled.
//
// What a request sends when there is no SSE stream to carry it (the
// client accepts JSON only, or Options.JSONResponse) goes to the
// session's GET stream, or at 2026-07-28 is dropped.
//
// It implements [mcp.Outbound] and [mcp.StreamCloser] for the calls; the
// handler answers (reply) once the mode is decided.
type exchange struct {
	h        *Handler
	s        *sessions.Session  // the session; nil at 2026-07-28
	cancel   context.CancelFunc // 2026-07-28: cancels the request's context; nil with a session
	batch    bool               // the POST was a JSON array: a JSON answer is one too
	allowSSE bool               // a request that sends something first turns the POST into SSE
	listen   bool               // 2026-07-28 subscriptions/listen: long-lived, always keep-alives

	// Guarded by mu (next to the flags above, to pack the struct).
	mode    uint8
	refusal refusalKind // 2026-07-28 JSON mode: the refusal the error response is sent as, or refuseNone (200)
	ended   bool        // JSON mode: the session had ended when the last request was answered

	mu       sync.Mutex    // guards mode, refusal and the fields below
	pending  int           // requests not yet answered
	buffered [][]byte      // the responses, while undecided and in JSON mode
	sink     eventSink     // SSE mode: where events go; nil when the session ended first
	src      eventSource   // SSE mode: what the writer reads; nil with sink
	decided  chan struct{} // made by reply if it must wait; closed when the mode is decided

	one  [1][]byte      // buffered's first backing array: one response takes no allocation
	call mcp.Call       // the Call of the POST's first inline request (answer): no allocation of its own
	msg  jsonrpc.Single // a session POST's message, decoded into it (post): no allocation of its own
}

// newExchange returns the exchange of a POST with n requests of session s
// (nil at 2026-07-28). A client that accepts only SSE (sseOnly; legacy)
// gets SSE at once.
func (h *Handler) newExchange(s *sessions.Session, n int, batch, allowSSE, sseOnly bool) *exchange {
	return h.newExchangeIn(new(exchange), s, n, batch, allowSSE, sseOnly)
}

// newExchangeIn is newExchange in ex, a zero exchange but for its msg.
func (h *Handler) newExchangeIn(ex *exchange, s *sessions.Session, n int, batch, allowSSE, sseOnly bool) *exchange {
	ex.h, ex.s, ex.batch, ex.allowSSE, ex.pending = h, s, batch, allowSSE, n
	ex.buffered = ex.one[:0]
	if sseOnly {
		ex.toSSELocked() // not yet shared
	}
	return ex
}

// An eventSink takes the events of an exchange in SSE mode. Its methods
// never block.
type eventSink interface {
	// send appends a message a request sends before its response.
	send(msg []byte) error
	// respond appends a response.
	respond(resp []byte)
	// finish marks the end: every request was answered.
	finish()
	// kick closes the connection of the stream's writer, the stream going
	// on for a resumption (SEP-1699), and reports whether it could.
	kick() bool
}

// Send carries a message a request sends before its response (it never
// blocks): on the POST's SSE stream, turning an undecided exchange into
// one; or, when there is none (JSON only), on the session's GET stream,
// and at 2026-07-28 nowhere.
func (ex *exchange) Send(msg []byte) error {
	ex.mu.Lock()
	if ex.mode == modeUndecided && ex.allowSSE {
		ex.toSSELocked()
	}
	sink, mode := ex.sink, ex.mode
	ex.mu.Unlock()
	switch {
	case sink != nil:
		return sink.send(msg)
	case ex.s != nil:
		return standaloneOutbound{ex.h, ex.s}.Send(msg)
	case mode == modeUndecided:
		return nil // 2026-07-28, the client takes JSON only: dropped
	}
	return errStreamGone
}

// CloseStream closes the connection of the POST's SSE stream, switching
// the exchange to SSE first if nothing was sent yet, and keeps the stream
// for a resumption (see [mcp.Request.CloseSSEStream]). It reports false
// when the POST is answered with JSON, and at 2026-07-28 (no resumption).
func (ex *exchange) CloseStream() bool {
	if ex.s == nil {
		return false
	}
	ex.mu.Lock()
	if ex.mode == modeUndecided && ex.allowSSE {
		ex.toSSELocked()
	}
	sink := ex.sink
	ex.mu.Unlock()
	return sink != nil && sink.kick()
}

// toSSELocked turns the exchange into SSE: it makes the sink (a new
// stream of the session, or at 2026-07-28 an event queue) and moves the
// responses buffered so far onto it.
func (ex *exchange) toSSELocked() {
	ex.mode = modeSSE
	if ex.s == nil {
		q := &eventQueue{wake: make(chan struct{}, 1), cancel: ex.cancel}
		ex.sink, ex.src = q, q
	} else if st := ex.s.NewStream(); st != nil {
		ex.sink, ex.src = streamSink{st}, st.Attach(0)
	}
	if ex.sink != nil {
		for _, r := range ex.buffered {
			ex.sink.respond(r)
		}
		if ex.pending == 0 {
			ex.sink.finish()
		}
	}
	ex.buffered = nil
	ex.decideLocked()
}

func (ex *exchange) decideLocked() {
	if ex.decided != nil {
		close(ex.decided)
	}
}

// complete records the answer to request id: its result, or its error,
// or nothing when the client cancelled it (mcp.ErrNoResponse). It copies
// id and result into the encoded response, one allocation sized at once
// (jsonrpc.AppendResult).
func (ex *exchange) complete(id []byte, result []byte, jerr *jsonrpc.Error) {
	var resp []byte
	refusal := refuseNone
	switch {
	case jerr == nil:
		resp = jsonrpc.AppendResult(nil, id, result) // one allocation, of the response's length
	case errors.Is(jerr, mcp.ErrNoResponse):
		// no response for a cancelled request
	default:
		resp = jsonrpc.AppendError(nil, id, jerr)
		if ex.s == nil { // 2026-07-28: some errors have a status of their own
			refusal = modernRefusal(jerr.Code)
		}
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.pending--
	switch ex.mode {
	case modeUndecided:
		if resp != nil {
			ex.buffered = append(ex.buffered, resp)
		}
		if ex.pending == 0 {
			ex.mode, ex.refusal = modeJSON, refusal
			// A request that ended with its session (DELETE, expiry)
			// returns what its cancelled context made of it: the POST
			// gets the session's end (404), not that.
			ex.ended = ex.s != nil && ex.s.Reason() != 0
			ex.decideLocked()
		}
	case modeSSE:
		if ex.sink == nil {
			return
		}
		if resp != nil {
			ex.sink.respond(resp)
		}
		if ex.pending == 0 {
			ex.sink.finish()
		}
	}
}

// decideJSON decides an exchange of one request, not a batch, answered
// on the POST's goroutine with a success response, for JSON and reports
// true, unless it is SSE already (the request sent something first) or
// the session has ended (reply refuses the POST then): the caller writes
// the response itself (answerInline) instead of calling complete and
// reply. It does not allocate.
func (ex *exchange) decideJSON() bool {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if ex.mode != modeUndecided || ex.pending != 1 || ex.batch || ex.s != nil && ex.s.Reason() != 0 {
		return false
	}
	ex.pending, ex.mode = 0, modeJSON
	return true
}

// reply answers the POST once ex is decided: 202 when no request left a
// response (each was cancelled; 2025-11-25 basic/utilities/cancellation),
// application/json (an array for a batch; at 2026-07-28 an error response
// with its status, see modernRefusal), or text/event-stream written by
// writeSSE. A session that ends first (before the response was made)
// gets 404, or 503 from a node that is shutting down.
func (h *Handler) reply(ctx *fasthttp.RequestCtx, ex *exchange) {
	ex.mu.Lock()
	if ex.mode == modeUndecided {
		ex.decided = make(chan struct{})
		var ended <-chan struct{} // nil at 2026-07-28: never
		if ex.s != nil {
			ended = ex.s.Done()
		}
		ex.mu.Unlock()
		select {
		case <-ex.decided:
		case <-ended:
			h.refuse(ctx, h.endedRefusal(ex.s))
			return
		}
		ex.mu.Lock()
	}
	mode, resps, refusal, src, ended := ex.mode, ex.buffered, ex.refusal, ex.src, ex.ended
	ex.mu.Unlock()
	switch {
	case mode == modeSSE && src == nil, // the session ended before its stream was made
		mode == modeJSON && ended: // or before the last response was made
		h.refuse(ctx, h.endedRefusal(ex.s))
	case mode == modeJSON && len(resps) == 0:
		ctx.Response.SetStatusCode(fasthttp.StatusAccepted)
	case mode == modeJSON && refusal != refuseNone:
		h.refuseWith(ctx, refusal, resps[0])
	case mode == modeJSON:
		writeJSON(ctx, joinResponses(resps, ex.batch))
	default:
		h.startSSE(ctx, ex.answer(src))
	}
}

// answer describes the SSE answer of ex, reading src.
func (ex *exchange) answer(src eventSource) *sseAnswer {
	a := &sseAnswer{src: src, s: ex.s, keepAlive: ex.h.opts.KeepAlive}
	if r, ok := src.(*sessions.Reader); ok {
		a.frame = sseFramer{stream: r.Stream().ID(), ids: true}
		a.cursor = r.Cursor()
		// Priming events only for sessions at 2025-11-25 or later: older
		// clients fail on an event with empty data.
		a.priming = mcp.AtLeast(ex.s.ProtocolVersion(), mcp.Version20251125)
	}
	if ex.listen && a.keepAlive <= 0 {
		// Only a failed write reveals a listener that went away.
		a.keepAlive = DefaultKeepAlive
	}
	return a
}

// writeJSON answers 200 with the application/json body b, which it
// copies.
func writeJSON(ctx *fasthttp.RequestCtx, b []byte) {
	ctx.Response.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentTypeBytes(ctJSON)
	ctx.Response.SetBody(b)
}

// writeJSONResult answers 200 with the application/json body of the
// success response to id with result. It encodes into the response's own
// body buffer (fasthttp's, pooled), so it allocates only to grow that
// buffer; id and result are copied, not retained.
func writeJSONResult(ctx *fasthttp.RequestCtx, id, result []byte) {
	ctx.Response.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentTypeBytes(ctJSON)
	b := ctx.Response.SwapBody(nil)
	ctx.Response.SwapBody(jsonrpc.AppendResult(b[:0], id, result))
}

func joinResponses(resps [][]byte, batch bool) []byte {
	if !batch {
		return resps[0]
	}
	n := 2
	for _, r := range resps {
		n += len(r) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, r := range resps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return append(b, ']')
}

var (
	errSessionEnded = errors.New("transport: the session or stream has ended")
	errStreamGone   = errors.New("transport: the response stream has ended")
	errSlowReader   = errors.New("transport: the client does not read its stream; it was closed")
)

// streamSink is the sink of a session's exchange: its POST stream, whose
// reader (a [*sessions.Reader]) the writer reads.
type streamSink struct{ st *sessions.Stream }

func (k streamSink) send(msg []byte) error {
	if _, ok := k.st.Append(msg); !ok {
		return errSessionEnded
	}
	return nil
}

func (k streamSink) respond(resp []byte) { k.st.Append(resp) }
func (k streamSink) finish()             { k.st.Finish() }
func (k streamSink) kick() bool          { k.st.Kick(); return true }

// maxQueuedEvents bounds the messages waiting for a 2026-07-28 SSE
// stream's writer: a client that stops reading has its stream closed (and
// its request cancelled) rather than the server buffering without end.
const maxQueuedEvents = 4096

// An eventQueue is the sink and the source of a 2026-07-28 exchange in
// SSE mode: the events not yet written, in memory only (2026-07-28
// streams are not resumable). Closing it, which the writer does when it
// stops, cancels the request.
type eventQueue struct {
	wake   chan struct{} // cap 1: signalled when events are queued, or the queue finishes or closes
	cancel context.CancelFunc

	mu       sync.Mutex       // guards the fields below
	events   []sessions.Event // queued for the writer (Seq 0: no IDs)
	finished bool             // the response (or the cancellation) is in
	closed   bool             // the writer stopped, or the client fell maxQueuedEvents behind
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// send queues msg, unless the client fell maxQueuedEvents behind: then it
// closes the queue (the writer ends the response) and cancels the request.
func (q *eventQueue) send(msg []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed || q.finished:
		return errStreamGone
	case len(q.events) >= maxQueuedEvents:
		q.closed, q.events = true, nil
		q.cancel()
		q.signal()
		return errSlowReader
	}
	q.events = append(q.events, sessions.Event{Data: msg})
	q.signal()
	return nil
}

// respond queues the response: it is not bounded.
func (q *eventQueue) respond(resp []byte) {
	q.mu.Lock()
	if !q.closed {
		q.events = append(q.events, sessions.Event{Data: resp})
		q.signal()
	}
	q.mu.Unlock()
}

func (q *eventQueue) finish() {
	q.mu.Lock()
	q.finished = true
	q.signal()
	q.mu.Unlock()
}

func (q *eventQueue) kick() bool { return false }

// Next moves the queued events to buf, as [sessions.Reader.Next] does;
// nothing is ever lost silently (a slow client is cut off instead).
func (q *eventQueue) Next(buf []sessions.Event) ([]sessions.Event, uint64, sessions.ReadStatus) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return buf, 0, sessions.ReadDetached
	}
	buf = append(buf, q.events...)
	clear(q.events)
	q.events = q.events[:0]
	if q.finished {
		return buf, 0, sessions.ReadFinished
	}
	return buf, 0, sessions.ReadMore
}

func (q *eventQueue) Wake() <-chan struct{} { return q.wake }

// Close closes the queue and cancels the request: the client closed the
// stream, or the writer stopped for another reason (a no-op for a request
// already answered).
func (q *eventQueue) Close() {
	q.mu.Lock()
	q.closed, q.events = true, nil
	q.mu.Unlock()
	q.cancel()
}

// Interface guards.
var (
	_ mcp.Outbound     = (*exchange)(nil)
	_ mcp.StreamCloser = (*exchange)(nil)
	_ eventSink        = streamSink{}
	_ eventSink        = (*eventQueue)(nil)
	_ eventSource      = (*eventQueue)(nil)
	_ eventSource      = (*sessions.Reader)(nil)
)
