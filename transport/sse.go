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

// writeSSE writes the events of r to w as SSE events, "id: <stream>_<seq>"
// and one JSON-RPC message each, flushing after each batch. For sessions at
// 2025-11-25 or later it first writes a priming event: an event ID, a
// retry field and empty data (2025-11-25 basic/transports §Sending
// Messages to the Server, item 6).
//
// Its exits:
//   - the stream is finished and every event written (a POST stream
//     after its last response);
//   - a write or flush fails: the client is gone (fasthttp reports nothing
//     sooner; keep-alives make this come sooner);
//   - r is detached: a resumption took the stream over, or the session
//     ended;
//   - drain: a GET stream ends at a random moment of the drain window,
//     after a retry field (see Shutdown);
//   - the grace period of Shutdown ends.
//
// It closes r on exit.
func (h *Handler) writeSSE(w *bufio.Writer, s *sessions.Session, r *sessions.Reader, priming bool) {
	defer r.Close()
	streamID := r.Stream().ID()
	idbuf := make([]byte, 0, 48)
	if priming {
		idbuf = sessions.AppendEventID(idbuf[:0], streamID, r.Cursor())
		w.WriteString("id: ")
		w.Write(idbuf)
		w.WriteString("\nretry: ")
		w.Write(strconv.AppendInt(idbuf[:0], h.opts.RetryHint.Milliseconds(), 10))
		w.WriteString("\ndata: \n\n")
		if w.Flush() != nil {
			return
		}
	}
	var keepAlive <-chan time.Time
	if h.opts.KeepAlive > 0 {
		t := time.NewTicker(h.opts.KeepAlive)
		defer t.Stop()
		keepAlive = t.C
	}
	drain := h.drain
	var drainAt <-chan time.Time
	buf := make([]sessions.Event, 0, 8)
	for {
		evs, lost, status := r.Next(buf[:0])
		if lost > 0 {
			h.log.Warn("sse: events were dropped before they could be sent (MaxEventsPerStream)",
				"session", s.ID(), "stream", streamID, "lost", lost)
		}
		if len(evs) > 0 {
			for _, e := range evs {
				idbuf = writeEvent(w, idbuf, streamID, e)
			}
			if w.Flush() != nil {
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
			w.WriteString(": keepalive\n\n")
			if w.Flush() != nil {
				return
			}
		case <-drain:
			drain = nil
			if streamID == 0 { // POST streams run until their response
				drainAt = time.After(jitter(h.drainWindow()))
			}
		case <-drainAt:
			retry := h.opts.RetryHint + jitter(h.drainWindow())
			w.WriteString("retry: ")
			w.Write(strconv.AppendInt(idbuf[:0], retry.Milliseconds(), 10))
			w.WriteString("\n\n")
			_ = w.Flush()
			return
		case <-h.stop:
			return
		}
	}
}

// writeEvent writes one SSE event. A JSON message has no raw newlines,
// but each line of data gets its own "data:" field all the same.
func writeEvent(w *bufio.Writer, idbuf []byte, stream uint64, e sessions.Event) []byte {
	idbuf = sessions.AppendEventID(idbuf[:0], stream, e.Seq)
	w.WriteString("id: ")
	w.Write(idbuf)
	w.WriteString("\nevent: message\n")
	data := e.Data
	for {
		line := data
		i := bytes.IndexByte(data, '\n')
		if i >= 0 {
			line, data = data[:i], data[i+1:]
		}
		w.WriteString("data: ")
		w.Write(bytes.TrimSuffix(line, []byte("\r")))
		w.WriteByte('\n')
		if i < 0 {
			break
		}
	}
	w.WriteByte('\n')
	return idbuf
}

// jitter returns a uniformly random duration in [0, d).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}
