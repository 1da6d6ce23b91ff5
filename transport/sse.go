package transport

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// startSSE answers with text/event-stream and hands r to a writer that
// streams it. The writer runs on the goroutine fasthttp starts for the
// body stream (owner: fasthttp; tracked in h.writers); see writeSSE for
// its exits. It takes ownership of r.
func (h *Handler) startSSE(ctx *fasthttp.RequestCtx, s *sessions.Session, r *sessions.Reader) {
	ctx.Response.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.Header.SetContentTypeBytes(ctEventStream)
	ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-cache, no-transform")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	// Send the headers at once: a stream may have nothing to say for a
	// while (a GET stream before 2025-11-25 has no priming event), and
	// clients wait for the headers before they read.
	ctx.Response.ImmediateHeaderFlush = true
	// Priming events only for sessions at 2025-11-25 or later: older
	// clients fail on an event with empty data.
	priming := mcp.AtLeast(s.ProtocolVersion(), mcp.Version20251125)
	h.writers.Add(1)
	standalone := r.Stream().ID() == 0
	sw := sseWriter{conn: ctx.Conn(), timeout: h.opts.WriteTimeout}
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer h.writers.Done()
		h.opts.Observer.StreamOpened(standalone)
		defer h.opts.Observer.StreamClosed(standalone)
		sw.w = w
		h.writeSSE(&sw, s, r, priming)
	})
}

// writeSSE writes the events of a POST's stream r to w as SSE events (see
// appendEvent), flushing after each batch. For sessions at 2025-11-25 or
// later it first writes a priming event: an event ID, a retry field and
// empty data (2025-11-25 basic/transports §Sending Messages to the Server,
// item 6). GET streams are written by an [sseConn] instead.
//
// Its exits:
//   - the stream is finished and every event written (after the last
//     response);
//   - a write or flush fails: the client is gone (fasthttp reports nothing
//     sooner; keep-alives make this come sooner), or it read nothing for
//     Options.WriteTimeout;
//   - r is detached: a resumption took the stream over, the handler closed
//     the connection (SEP-1699), or the session ended;
//   - events were dropped before they could be written (the event log
//     budgets; see sessions.Stream): it ends the response rather than skip
//     them, and a resumption with Last-Event-ID is refused (refuseEventsGone);
//   - Shutdown halts it: its requests were answered with an error at the
//     end of the grace period and the answers had until its deadline.
//
// It closes r on exit.
func (h *Handler) writeSSE(w *sseWriter, s *sessions.Session, r *sessions.Reader, priming bool) {
	defer r.Close()
	streamID := r.Stream().ID()
	if priming {
		var out [64]byte
		if w.write(appendPriming(out[:0], streamID, r.Cursor(), h.opts.RetryHint)) != nil || w.flush() != nil {
			return
		}
	}
	var keepAlive <-chan time.Time
	if h.opts.KeepAlive > 0 {
		t := time.NewTicker(h.opts.KeepAlive)
		defer t.Stop()
		keepAlive = t.C
	}
	buf := make([]sessions.Event, 0, 8)
	for {
		evs, lost, status := r.Next(buf[:0])
		if lost > 0 { // no silent gap: the client resumes, or learns it cannot
			h.warnLost(s, streamID, lost)
			return
		}
		if len(evs) > 0 {
			for _, e := range evs {
				if w.event(streamID, e) != nil {
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
		case <-r.Wake():
		case <-s.Done():
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
}

// arm moves the write deadline to the write timeout from now.
func (sw *sseWriter) arm() error {
	if sw.conn == nil || sw.timeout <= 0 {
		return nil
	}
	return sw.conn.SetWriteDeadline(time.Now().Add(sw.timeout))
}

// write writes b in pieces of at most sseChunk bytes, each under a fresh
// write deadline.
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

// flush hands what is buffered to the client, under a fresh deadline.
func (sw *sseWriter) flush() error {
	if err := sw.arm(); err != nil {
		return err
	}
	return sw.w.Flush()
}

// event writes one event as appendEvent frames it, without copying its
// data into a buffer of its own first.
func (sw *sseWriter) event(stream uint64, e sessions.Event) error {
	if bytes.IndexByte(e.Data, '\n') >= 0 { // not from a JSON encoder: frame each line
		return sw.write(appendEvent(nil, stream, e))
	}
	var head [64]byte
	h := append(head[:0], "id: "...)
	h = sessions.AppendEventID(h, stream, e.Seq)
	h = append(h, "\nevent: message\ndata: "...)
	if err := sw.write(h); err != nil {
		return err
	}
	if err := sw.write(bytes.TrimSuffix(e.Data, []byte("\r"))); err != nil {
		return err
	}
	return sw.write(eventEnd)
}

// keepAliveComment is an SSE comment: clients ignore it, and writing it
// tells a dead connection from a quiet one.
const keepAliveComment = ": keepalive\n\n"

// warnLost logs events dropped before they could be written; the writer
// then ends the response.
func (h *Handler) warnLost(s *sessions.Session, stream, lost uint64) {
	if lost > 0 {
		h.log.Warn("sse: events were dropped before they could be sent (event log bounds); ending the stream",
			"session", s.ID(), "stream", stream, "lost", lost)
	}
}

// appendPriming appends a priming event: the event ID "<stream>_<cursor>",
// a retry field and empty data.
func appendPriming(dst []byte, stream, cursor uint64, retry time.Duration) []byte {
	dst = append(dst, "id: "...)
	dst = sessions.AppendEventID(dst, stream, cursor)
	dst = appendRetry(append(dst, '\n'), retry)
	return append(dst, "data: \n\n"...)
}

// appendRetry appends an SSE retry field, in milliseconds.
func appendRetry(dst []byte, retry time.Duration) []byte {
	dst = append(dst, "retry: "...)
	dst = strconv.AppendInt(dst, retry.Milliseconds(), 10)
	return append(dst, '\n')
}

// appendEvent appends one SSE event: "id: <stream>_<seq>", "event:
// message", and the JSON-RPC message as data. A JSON message has no raw
// newlines, but each line of data gets its own "data:" field all the same.
func appendEvent(dst []byte, stream uint64, e sessions.Event) []byte {
	dst = append(dst, "id: "...)
	dst = sessions.AppendEventID(dst, stream, e.Seq)
	dst = append(dst, "\nevent: message\n"...)
	data := e.Data
	for {
		line := data
		i := bytes.IndexByte(data, '\n')
		if i >= 0 {
			line, data = data[:i], data[i+1:]
		}
		dst = append(dst, "data: "...)
		dst = append(dst, bytes.TrimSuffix(line, []byte("\r"))...)
		dst = append(dst, '\n')
		if i < 0 {
			break
		}
	}
	return append(dst, '\n')
}

// jitter returns a uniformly random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}
