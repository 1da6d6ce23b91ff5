package transport

import (
	"bufio"
	"bytes"
	"math/rand/v2"
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
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer h.writers.Done()
		h.opts.Observer.StreamOpened(standalone)
		defer h.opts.Observer.StreamClosed(standalone)
		h.writeSSE(w, s, r, priming)
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
//     sooner; keep-alives make this come sooner);
//   - r is detached: a resumption took the stream over, the handler closed
//     the connection (SEP-1699), or the session ended;
//   - events were dropped before they could be written (the event log
//     budgets; see sessions.Stream): it ends the response rather than skip
//     them, and a resumption with Last-Event-ID is refused (bodyEventsGone);
//   - the grace period of Shutdown ends.
//
// It closes r on exit.
func (h *Handler) writeSSE(w *bufio.Writer, s *sessions.Session, r *sessions.Reader, priming bool) {
	defer r.Close()
	streamID := r.Stream().ID()
	out := make([]byte, 0, 512)
	if priming {
		out = appendPriming(out, streamID, r.Cursor(), h.opts.RetryHint)
		if _, err := w.Write(out); err != nil || w.Flush() != nil {
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
			out = out[:0]
			for _, e := range evs {
				out = appendEvent(out, streamID, e)
			}
			if _, err := w.Write(out); err != nil || w.Flush() != nil {
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
			w.WriteString(keepAliveComment)
			if w.Flush() != nil {
				return
			}
		case <-h.stop:
			return
		}
	}
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
