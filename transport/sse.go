package transport

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/sessions"
)

// SSE framing. Every SSE event the transport writes is framed here, for
// both of its writers: the body-stream writer of a POST's answer
// (writeSSE, either era) and the hijacked-connection writer of GET streams
// and resumptions ([sseConn]).
//
//	id: <stream>_<seq>     only on a session's streams (resumable)
//	event: message
//	data: <JSON-RPC message, one data field per line>
//	                       (a blank line ends the event)
//
// A priming event (sessions at 2025-11-25 or later) is an event ID, a
// retry field and empty data; a keep-alive is an SSE comment.

// An sseFramer frames the events of one stream. With ids, events carry the
// event ID "<stream>_<seq>" (a session's streams, which a client resumes
// with Last-Event-ID); without, none (2026-07-28 streams are not
// resumable). Its methods append to dst and allocate only to grow it.
type sseFramer struct {
	stream uint64
	ids    bool
}

// appendHead appends what comes before the data of event seq: its ID
// line, if any ("<stream>_<seq>", and "_<cursor>" after it for a GET
// stream's event with a broadcast cursor), the event type and the first
// data field's name.
func (f sseFramer) appendHead(dst []byte, seq uint64, cur sessions.Cursor) []byte {
	if f.ids {
		dst = append(dst, "id: "...)
		dst = sessions.AppendEventIDCursor(dst, f.stream, seq, cur)
		dst = append(dst, '\n')
	}
	return append(dst, "event: message\ndata: "...)
}

// appendEvent appends event e whole. A JSON message has no raw newlines,
// but each line of data gets its own data field all the same (a trailing
// CR of a line is dropped).
func (f sseFramer) appendEvent(dst []byte, e sessions.Event) []byte {
	dst = f.appendHead(dst, e.Seq, e.Cursor)
	data := e.Data
	for {
		line := data
		i := bytes.IndexByte(data, '\n')
		if i >= 0 {
			line, data = data[:i], data[i+1:]
		}
		dst = append(dst, bytes.TrimSuffix(line, cr)...)
		dst = append(dst, '\n')
		if i < 0 {
			break
		}
		dst = append(dst, "data: "...)
	}
	return append(dst, '\n')
}

// appendPriming appends a priming event: the event ID
// "<stream>_<cursor>" ("_<bcur>" after it for a GET stream with a
// broadcast cursor), a retry field and empty data (2025-11-25
// basic/transports §Sending Messages to the Server, item 6).
func (f sseFramer) appendPriming(dst []byte, cursor uint64, bcur sessions.Cursor, retry time.Duration) []byte {
	dst = append(dst, "id: "...)
	dst = sessions.AppendEventIDCursor(dst, f.stream, cursor, bcur)
	dst = appendRetry(append(dst, '\n'), retry)
	return append(dst, "data: \n\n"...)
}

// appendRetry appends an SSE retry field, in milliseconds.
func appendRetry(dst []byte, retry time.Duration) []byte {
	dst = append(dst, "retry: "...)
	dst = strconv.AppendInt(dst, retry.Milliseconds(), 10)
	return append(dst, '\n')
}

// keepAliveComment is an SSE comment: clients ignore it, and writing it
// tells a dead connection from a quiet one.
const keepAliveComment = ": keepalive\n\n"

var (
	cr       = []byte{'\r'}
	eventEnd = []byte("\n\n") // the end of a single-line event's data
)

// An sseAnswer is a POST answered with text/event-stream, in either era:
// the events of src, framed by frame, written through fasthttp's body
// stream by writeSSE.
type sseAnswer struct {
	w     sseWriter
	src   eventSource
	frame sseFramer
	// s is the session whose POST stream src reads (its end ends the
	// answer, and lost events are logged with its ID); nil at 2026-07-28.
	s         *sessions.Session
	priming   bool          // a priming event first (sessions at 2025-11-25 or later)
	cursor    uint64        // the priming event's sequence number: src's cursor at the start
	keepAlive time.Duration // between keep-alive comments; <= 0: none

	evs [8]sessions.Event // writeSSE's first buffer for src.Next
}

// An eventSource is what an SSE writer reads: a session stream's
// [*sessions.Reader], or a 2026-07-28 exchange's [eventQueue]. Next and
// Close are called by the writer only; Wake is signalled (or closed) when
// Next may have something new to say.
type eventSource interface {
	Next(buf []sessions.Event) (evs []sessions.Event, lost uint64, status sessions.ReadStatus)
	Wake() <-chan struct{}
	// Close ends the reading: a session stream's reader detaches (the
	// stream goes on, resumable); an eventQueue cancels its request.
	Close()
}

// startSSE answers with text/event-stream and hands a to a writer that
// streams it. The writer runs on the goroutine fasthttp starts for the
// body stream (owner: fasthttp; tracked in h.writers); see writeSSE for
// its exits. It takes ownership of a.src.
func (h *Handler) startSSE(ctx *fasthttp.RequestCtx, a *sseAnswer) {
	ctx.Response.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentTypeBytes(ctEventStream)
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-cache, no-transform")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	// Send the headers at once: a stream may have nothing to say for a
	// while, and clients wait for the headers before they read.
	ctx.Response.ImmediateHeaderFlush = true
	h.writers.Add(1)
	a.w = sseWriter{conn: ctx.Conn(), timeout: h.opts.WriteTimeout}
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer h.writers.Done()
		h.opts.Observer.StreamOpened(false)
		defer h.opts.Observer.StreamClosed(false)
		a.w.w = w
		h.writeSSE(a)
	})
}

// writeSSE writes the events of a.src as SSE events (see sseFramer),
// flushing after each batch: the POST answers of both eras. It first
// writes a priming event when a.priming. GET streams are written by an
// [sseConn] instead.
//
// Its exits:
//   - the source is finished and every event written (after the last
//     response);
//   - a write or flush fails: the client is gone (fasthttp reports nothing
//     sooner; keep-alives make this come sooner), or it read nothing for
//     Options.WriteTimeout;
//   - the source is detached: a resumption took a session stream over,
//     the handler closed the connection (SEP-1699), or the session ended;
//     a 2026-07-28 client fell maxQueuedEvents behind;
//   - Shutdown halts it: its requests were answered with an error at the
//     end of the grace period and the answers had until its deadline.
//
// It closes a.src on exit, which at 2026-07-28 cancels the request
// (closing the stream is cancellation; a no-op once it is answered).
func (h *Handler) writeSSE(a *sseAnswer) {
	w := &a.w
	defer a.src.Close()
	if a.priming {
		if w.write(a.frame.appendPriming(w.scratch[:0], a.cursor, sessions.Cursor{}, h.opts.RetryHint)) != nil || w.flush() != nil {
			return
		}
	}
	var keepAlive <-chan time.Time
	if a.keepAlive > 0 {
		t := time.NewTicker(a.keepAlive)
		defer t.Stop()
		keepAlive = t.C
	}
	var ended <-chan struct{} // nil at 2026-07-28: never
	if a.s != nil {
		ended = a.s.Done()
	}
	buf := a.evs[:0]
	for {
		evs, lost, status := a.src.Next(buf[:0])
		h.warnLost(a.s, a.frame.stream, lost) // a gap: the event log budgets dropped them
		if len(evs) > 0 {
			for _, e := range evs {
				if w.event(a.frame, e) != nil {
					return
				}
			}
			clear(evs) // drop references to event data
			if w.flush() != nil {
				return
			}
		}
		if status != sessions.ReadMore {
			return
		}
		select {
		case <-a.src.Wake():
		case <-ended:
			return
		case <-keepAlive:
			if w.write([]byte(keepAliveComment)) != nil || w.flush() != nil {
				return
			}
		case <-h.halt:
			return
		}
	}
}

// sseChunk is the most of an event's data an [sseWriter] hands on in one
// write: fasthttp's body-stream pipe copies every write and queues up to
// four, so a large event is held a few chunks at a time, not copied whole.
const sseChunk = 16 << 10

// An sseWriter writes SSE events to a fasthttp body stream (w), moving the
// connection's write deadline before every write so that a client that
// stops reading is cut off after the write timeout wherever the server is
// listening ([Listener] bounds writes too, more cheaply, but a Handler may
// be served without it). The connection is only borrowed: fasthttp keeps
// it until the body stream ends, which is after the writer returns.
type sseWriter struct {
	w       *bufio.Writer
	conn    net.Conn      // the request's connection; nil: no deadlines
	timeout time.Duration // Options.WriteTimeout; <= 0: none
	armed   time.Time     // when the deadline in force was set; zero: none yet
	scratch [64]byte      // an event's head, a priming event: what bufio.Writer.Write may retain a reference to, kept off the stack
}

// arm moves the write deadline to the write timeout from now, unless it
// was moved less than a slack ago (writeSlackOf: 1s, or a quarter of a
// shorter timeout): a busy stream re-arms it about once a second, not at
// every write, so a blocked write fails between timeout-slack and timeout
// after it started.
func (sw *sseWriter) arm() error {
	if sw.conn == nil || sw.timeout <= 0 {
		return nil
	}
	now := time.Now()
	if !sw.armed.IsZero() && now.Sub(sw.armed) < writeSlackOf(sw.timeout) {
		return nil
	}
	sw.armed = now
	return sw.conn.SetWriteDeadline(now.Add(sw.timeout))
}

// write writes b in pieces of at most sseChunk bytes, each under a fresh
// write deadline (see arm).
func (sw *sseWriter) write(b []byte) error {
	for len(b) > 0 {
		n := min(len(b), sseChunk)
		if err := sw.arm(); err != nil {
			return err
		}
		if _, err := sw.w.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// flush hands what is buffered to the client, under a fresh deadline (see
// arm).
func (sw *sseWriter) flush() error {
	if err := sw.arm(); err != nil {
		return err
	}
	return sw.w.Flush()
}

// event writes event e as f frames it. A single-line event (what a JSON
// encoder makes) is written as head, data and end, without copying its
// data into a buffer of its own first, and does not allocate; only a
// multi-line one is framed into a new buffer.
func (sw *sseWriter) event(f sseFramer, e sessions.Event) error {
	if bytes.IndexByte(e.Data, '\n') >= 0 {
		return sw.write(f.appendEvent(nil, e))
	}
	if err := sw.write(f.appendHead(sw.scratch[:0], e.Seq, e.Cursor)); err != nil {
		return err
	}
	if err := sw.write(bytes.TrimSuffix(e.Data, cr)); err != nil {
		return err
	}
	return sw.write(eventEnd)
}

// warnLost counts events dropped from a stream's log before a writer
// could write them (the event log budgets: the client reads more slowly
// than the server sends, or resumed after more than the budget), and logs
// them at most once per lostLogEvery, with the count since the last line,
// so that a slow reader cannot flood the log. The writer goes on after
// the gap: a live stream keeps the client's session working, where ending
// it would make clients that cannot resume (the Go SDK's fails its session
// on a refused reconnection) lose the session. It does not allocate
// unless it logs.
func (h *Handler) warnLost(s *sessions.Session, stream, lost uint64) {
	if lost == 0 {
		return
	}
	h.lost.n.Add(lost)
	now := time.Now().UnixNano()
	last := h.lost.logged.Load()
	if now-last < int64(lostLogEvery) || !h.lost.logged.CompareAndSwap(last, now) {
		return
	}
	id := ""
	if s != nil {
		id = s.ID()
	}
	h.log.Warn("sse: events were dropped from a stream's log before they were written (event log budgets: a client reading too slowly, or resuming too late); the stream goes on after the gap",
		"session", id, "stream", stream, "dropped_since_last_warning", h.lost.n.Swap(0))
}

// lostLogEvery is the least time between two warnings about dropped
// events: 10s.
const lostLogEvery = 10 * time.Second

// lostEvents are the counts behind warnLost.
type lostEvents struct {
	n      atomic.Uint64 // events dropped since the last warning
	logged atomic.Int64  // Unix nanoseconds of the last warning
}

// jitter returns a uniformly random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}
