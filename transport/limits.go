package transport

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// Bounds on work (issue #14): how many requests run at once, per session
// (Options.MaxInflightPerSession) and over the server
// (Options.MaxInflight), and for how long (Options.CallTimeout). Only
// requests that run on a worker count (not those the backend answers
// inline, such as ping): they are what a client that hangs up leaves
// behind, since a disconnect is not a cancellation (2025-11-25
// basic/transports §Sending Messages to the Server, item 5).
//
// Admission is all or nothing per POST: a batch of n such requests takes
// n slots or none, and a POST refused gets 503 with Retry-After and a
// JSON-RPC error (-32000) naming the cap. The counts are atomic: the
// server's is a field of the Handler; a session's is a sessionSlots kept
// in Handler.slots, keyed by the *sessions.Session and removed when the
// session ends (the session map is another package's; the transport keeps
// its own per-session bookkeeping next to it).
//
// A request that runs on a worker is a flight. It holds, until it ends, a
// slot of each count, a hold on its session (which keeps the session from
// idle expiry) and a place in h.calls (which Shutdown waits for). It ends
// once, by whichever comes first: the handler returns (its answer is
// sent), or the deadline passes (the client gets a timeout error, the
// backend is told notifications/cancelled, and the handler's answer, if it
// ever comes, is dropped). So a handler that ignores cancellation no
// longer keeps its session alive or its slots taken past the deadline;
// only its goroutine runs on until it returns.

// sessionSlots counts one session's requests in flight.
type sessionSlots struct{ n atomic.Int64 }

// slotsOf returns the in-flight count of session s, making it on s's first
// request that runs on a worker. The entry leaves h.slots when the session
// ends (NewHandler's OnEnd); one made as s ends is removed here, so none
// outlives its session.
func (h *Handler) slotsOf(s *sessions.Session) *sessionSlots {
	if sl, ok := h.slots.Load(s); ok {
		return sl
	}
	sl, _ := h.slots.LoadOrCompute(s, func() *sessionSlots { return new(sessionSlots) })
	if s.Reason() != 0 { // ended: OnEnd may have deleted before we stored
		h.slots.Delete(s)
	}
	return sl
}

// take adds n to c unless that would pass limit (negative: no limit).
func take(c *atomic.Int64, n, limit int) bool {
	if limit < 0 {
		c.Add(int64(n))
		return true
	}
	for {
		cur := c.Load()
		if cur+int64(n) > int64(limit) {
			return false
		}
		if c.CompareAndSwap(cur, cur+int64(n)) {
			return true
		}
	}
}

// admit takes n slots of sl (a session's count; nil at 2026-07-28) and n
// of the server's, all or none. It returns the error to refuse with when
// a cap is reached.
func (h *Handler) admit(sl *sessionSlots, n int) *jsonrpc.Error {
	if sl != nil && !take(&sl.n, n, h.opts.MaxInflightPerSession) {
		return h.lim.busySession
	}
	if !take(&h.inflight, n, h.opts.MaxInflight) {
		if sl != nil {
			sl.n.Add(-int64(n))
		}
		return h.lim.busyServer
	}
	return nil
}

// limitTexts are the refusals and the timeout error, which name the
// configured values, made once by NewHandler.
type limitTexts struct {
	busySession *jsonrpc.Error
	busyServer  *jsonrpc.Error
	timeout     *jsonrpc.Error
	reason      []byte // `,"reason":"…"}`: the tail of the cancellation's params
	retryAfter  string // Retry-After: Options.RetryAfter in whole seconds, at least 1
}

func newLimitTexts(o *Options) limitTexts {
	reason, _ := jsonrpc.Marshal(fmt.Sprintf("the request ran longer than the server's call timeout (%v)", o.CallTimeout))
	return limitTexts{
		busySession: jsonrpc.NewError(jsonrpc.CodeServerError,
			fmt.Sprintf("Service Unavailable: this session has %d requests in flight (--max-inflight-per-session)", o.MaxInflightPerSession)),
		busyServer: jsonrpc.NewError(jsonrpc.CodeServerError,
			fmt.Sprintf("Service Unavailable: the server has %d requests in flight (--max-inflight)", o.MaxInflight)),
		timeout: jsonrpc.NewError(jsonrpc.CodeServerError,
			fmt.Sprintf("Request timed out after %v (--call-timeout); it was cancelled", o.CallTimeout)),
		reason:     append(append([]byte(`,"reason":`), reason...), '}'),
		retryAfter: strconv.Itoa(max(1, int(o.RetryAfter.Seconds()))),
	}
}

// cancelParams returns the params of the notifications/cancelled that
// ends request id at its deadline.
func (h *Handler) cancelParams(id []byte) json.RawMessage {
	p := make([]byte, 0, len(`{"requestId":`)+len(id)+len(h.lim.reason))
	p = append(p, `{"requestId":`...)
	p = append(p, id...)
	return append(p, h.lim.reason...)
}

// A flight is a request running on a worker, of a session or at
// 2026-07-28, and what it holds; see the comment at the top of this file.
// It answers through its exchange. A live flight is in Handler.flights, so
// that Shutdown can answer and cancel whatever still runs when the grace
// period ends (endFlights).
type flight struct {
	h     *Handler
	s     *sessions.Session // nil at 2026-07-28
	slots *sessionSlots     // nil at 2026-07-28
	ex    *exchange
	// deadline is when the request is cancelled, in Unix nanoseconds; 0:
	// none. Set before the flight is stored in Handler.flights, where
	// expireFlights finds it.
	deadline int64
	ended    atomic.Bool

	// The request: a session's, run on its conn, or a 2026-07-28 one.
	conn mcp.Conn
	c    *mcp.Call
	call mcp.Call // what c points at for a session's request: one allocation for both
	sb   mcp.StatelessBackend
	sc   *mcp.StatelessCall
}

// startCall runs f on a worker, with its deadline unless it is a
// subscriptions/listen stream (long-lived by design; it ends when its
// client goes away). The caller has taken its slots (admit).
func (h *Handler) startCall(f *flight) {
	h.calls.Add(1)
	if d := h.opts.CallTimeout; d > 0 && !f.ex.listen {
		f.deadline = time.Now().Add(d).UnixNano()
		h.sweepOnce.Do(func() {
			go h.expireFlights(d) // owner: the Handler; exit: stop (the end of Shutdown)
		})
	}
	h.flights.Store(f, struct{}{})
	if f.s != nil {
		f.s.Hold() // a call in flight keeps the session from idle expiry
	}
	h.workers.run(f) // owner: the Handler (calls); exit: the method handler returns
}

// expireFlights ends, every sweepPeriod(d), the flights past their
// deadline: one goroutine for all of them rather than a timer per call
// (time.AfterFunc and its Stop cost each call a few hundred nanoseconds).
// A call is so cancelled between Options.CallTimeout and a tenth of it
// (at most 1s) later. Each expiry runs on a worker, since telling the
// backend (notifications/cancelled) may block: a bridge child that does
// not read its stdin. Owner: the Handler (started with the first call
// that has a deadline); exit: stop, at the end of Shutdown, which ends
// the flights still running itself (endFlights).
func (h *Handler) expireFlights(d time.Duration) {
	t := time.NewTicker(sweepPeriod(d))
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case now := <-t.C:
			n := now.UnixNano()
			h.flights.Range(func(f *flight, _ struct{}) bool {
				if f.deadline != 0 && n >= f.deadline && !f.ended.Load() {
					h.workers.run(funcJob(f.expire)) // owner: the Handler; exit: expire returns
				}
				return true
			})
		}
	}
}

// sweepPeriod is how often expireFlights looks for flights past a call
// timeout d: a tenth of it, between 1ms and 1s.
func sweepPeriod(d time.Duration) time.Duration { return min(max(d/10, time.Millisecond), time.Second) }

// run is the worker's part: the handler's answer is sent unless the
// deadline passed first. A 2026-07-28 request's context ends with it.
func (f *flight) run() {
	var result []byte
	var jerr *jsonrpc.Error
	if f.c != nil {
		result, jerr = f.h.handle(f.conn, f.c)
	} else {
		result, jerr = f.h.handleStateless(f.sb, f.sc)
	}
	if f.claim() {
		f.ex.complete(f.id(), result, jerr)
		f.release()
	}
	if f.ex.cancel != nil {
		f.ex.cancel()
	}
}

// id returns the request's JSON-RPC id.
func (f *flight) id() json.RawMessage {
	if f.c != nil {
		return f.c.ID
	}
	return f.sc.ID
}

// claim reports whether this call ends the flight: only the first does,
// the handler returning or the deadline. The winner answers, then calls
// release.
func (f *flight) claim() bool { return f.ended.CompareAndSwap(false, true) }

// release gives back what the flight held. It runs once, after the answer
// is recorded (so that Shutdown, waiting on h.calls, does not end the
// session before the answer is in).
func (f *flight) release() {
	f.h.flights.Delete(f)
	if f.slots != nil {
		f.slots.n.Add(-1)
	}
	f.h.inflight.Add(-1)
	if f.s != nil {
		f.s.Release()
	}
	f.h.calls.Done()
}

// expire is the deadline: the client gets the timeout error, and the
// request is cancelled.
func (f *flight) expire() { f.end(f.h.lim.timeout) }

// end answers the request with jerr in place of its response, unless it
// was answered already, and cancels it: a session's backend is told
// notifications/cancelled, as if the client had sent it (2025-11-25
// basic/utilities/cancellation; the mcp.Server, the stdio bridge and the
// Go SDK host all act on it), and a 2026-07-28 request's context ends.
func (f *flight) end(jerr *jsonrpc.Error) {
	if !f.claim() {
		return
	}
	f.ex.complete(f.id(), nil, jerr)
	f.release()
	if f.c != nil {
		f.conn.Notify(mcp.NotificationCancelled, f.h.cancelParams(f.c.ID))
	} else {
		f.ex.cancel()
	}
}

// errShutdown answers the requests still running when the grace period of
// Shutdown ends.
var errShutdown = jsonrpc.NewError(jsonrpc.CodeServerError, "Service Unavailable: the server shut down before the request completed; it was cancelled")

// endFlights answers every request still running with errShutdown and
// cancels it: their clients get an error on the POST's JSON or SSE answer,
// not a cut connection. Shutdown calls it when the grace period ends.
func (h *Handler) endFlights() {
	h.flights.Range(func(f *flight, _ struct{}) bool {
		f.end(errShutdown)
		return true
	})
}
