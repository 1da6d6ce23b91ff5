package transport

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// sseHead is the HTTP response head of a GET stream. The stream is written
// on the connection fasthttp hands over (Hijack), so the body ends when the
// connection closes.
var sseHead = []byte("HTTP/1.1 200 OK\r\n" +
	"Content-Type: text/event-stream\r\n" +
	"Cache-Control: no-cache, no-transform\r\n" +
	"X-Accel-Buffering: no\r\n" +
	"Connection: close\r\n\r\n")

// sseConn states.
const (
	connIdle      int32 = iota // nothing to write
	connScheduled              // a pump is queued on a worker
	connRunning                // a pump is running
	connDirty                  // running, and woken again: pump once more
)

// An sseConn is a GET stream (the session's standalone stream, or a
// resumed stream) written on a hijacked connection without a goroutine of
// its own: while it has nothing to write it costs a few hundred bytes, not
// a parked goroutine and fasthttp's buffers. When its stream has
// something new (the stream's notify calls wake), a pump runs on one of
// the Handler's call workers and writes what there is. Keep-alives come
// from one ticker for all GET streams ([Handler.keepAlive]).
//
// It ends when the stream ends (a resumed POST stream after its
// response), a write fails or times out (the client is gone), its client
// is seen to have hung up (at a keep-alive tick, or when a new GET for the
// session finds it attached: peerGone), the reader
// is detached (a resumption took over, or the session ended), events were
// dropped before it wrote them (see [Handler.writeSSE]), at drain
// (a retry field first; see Shutdown), or when Shutdown's grace period
// ends. Nothing else holds it: the Handler's registry (h.sse) drops it then.
type sseConn struct {
	h        *Handler
	s        *sessions.Session
	r        *sessions.Reader // used by the running pump only, after start
	conn     net.Conn
	stream   uint64          // the stream's ID: 0 is the session's GET stream
	frame    sseFramer       // frames the stream's events, with IDs
	bcur     sessions.Cursor // the broadcast cursor of the priming event (broadcast.go)
	priming  bool
	created  time.Time
	done     chan struct{} // closed when the conn is closed
	runFn    func()        // c.run, made once: a method value allocates
	state    atomic.Int32
	started  atomic.Bool // start ran, or the reaper claimed it
	ping     atomic.Bool // a keep-alive is due
	draining atomic.Bool // write a retry field and close
	killed   atomic.Bool // close at the next pump
	opened   bool        // start told the observer
	closed   bool        // set by the pump that closed it
}

// startGETStream answers a GET with the stream attach attaches to: it
// hijacks the connection and writes the stream as an [sseConn]. attach
// gets the function that wakes the conn and returns the reader, or false
// when the stream cannot be attached (then it writes nothing and returns
// false).
func (h *Handler) startGETStream(ctx *fasthttp.RequestCtx, s *sessions.Session, attach func(notify func()) (*sessions.Reader, bool)) bool {
	c := &sseConn{
		h:       h,
		s:       s,
		conn:    ctx.Conn(),
		priming: mcp.AtLeast(s.ProtocolVersion(), mcp.Version20251125),
		created: time.Now(),
		done:    make(chan struct{}),
	}
	c.runFn = c.run
	c.state.Store(connRunning) // wakes before start only mark it dirty
	r, ok := attach(c.wake)
	if !ok {
		return false
	}
	c.r, c.stream = r, r.Stream().ID()
	if c.stream == 0 && h.claims != nil && s.Conn() != nil {
		// The GET stream is open: the client is initialized, whichever
		// node got its notifications/initialized (sessions save that
		// lazily across nodes).
		s.Conn().State().MarkInitialized()
	}
	c.frame = sseFramer{stream: r.Stream().EventStreamID(), ids: true}
	c.bcur = r.Stream().CursorAt(r.Cursor())
	h.writers.Add(1)
	h.registerSSE(c)
	ctx.Response.SetStatusCode(fasthttp.StatusOK) // for observers; fasthttp writes nothing
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(net.Conn) { // on a goroutine fasthttp starts for it
		c.start()
		if !h.hijackKept.Load() {
			<-c.done // fasthttp closes the connection when this returns
		}
	})
	return true
}

// start writes the response head and the priming event, then what the
// stream already has. A conn the reaper claimed first is left alone.
func (c *sseConn) start() {
	if !c.started.CompareAndSwap(false, true) {
		return
	}
	c.opened = true
	c.h.opts.Observer.StreamOpened(true)
	// No read deadline from the request: the hang-up probe (peerGone)
	// fails at once on an expired one.
	_ = c.conn.SetReadDeadline(time.Time{})
	out := append(make([]byte, 0, 512), sseHead...)
	if c.priming {
		out = c.frame.appendPriming(out, c.r.Cursor(), c.bcur, c.h.opts.RetryHint)
	}
	if !c.write(out) {
		c.kill()
	}
	c.pump()
}

// wake asks for a pump. It never blocks; it is called with the stream's
// lock held (sessions.Stream.AttachNotify), by the keep-alive ticker, and
// at drain and stop.
func (c *sseConn) wake() {
	for {
		switch st := c.state.Load(); st {
		case connIdle:
			if c.state.CompareAndSwap(connIdle, connScheduled) {
				c.h.workers.run(c.runFn)
				return
			}
		case connRunning:
			if c.state.CompareAndSwap(connRunning, connDirty) {
				return
			}
		default: // scheduled or dirty: a pump will look
			return
		}
	}
}

func (c *sseConn) run() {
	c.state.Store(connRunning)
	c.pump()
}

// pumpScratch is a pump's working memory, pooled so that an idle GET
// stream holds none.
type pumpScratch struct {
	evs []sessions.Event
	out []byte
}

var pumpScratchPool = sync.Pool{New: func() any {
	return &pumpScratch{evs: make([]sessions.Event, 0, 16), out: make([]byte, 0, 1024)}
}}

// maxPooledOut is the largest output buffer a pump returns to the pool: one
// grown for a large event is left to the garbage collector instead of
// being kept for every later pump.
const maxPooledOut = 64 << 10

// pump writes what the stream has, the keep-alive due or the drain's
// retry field, until there is nothing more; the state is connRunning.
func (c *sseConn) pump() {
	sc := pumpScratchPool.Get().(*pumpScratch)
	defer func() {
		clear(sc.evs[:cap(sc.evs)]) // drop references to event data
		if cap(sc.out) > maxPooledOut {
			sc.out = make([]byte, 0, 1024)
		}
		sc.evs, sc.out = sc.evs[:0], sc.out[:0]
		pumpScratchPool.Put(sc)
	}()
	for {
		if c.closed {
			return
		}
		if c.killed.Load() {
			c.close()
			return
		}
		evs, lost, status := c.r.Next(sc.evs[:0])
		sc.evs = evs
		c.h.warnLost(c.s, c.stream, lost) // a gap: the event log budgets dropped them
		out := sc.out[:0]
		for _, e := range evs {
			out = c.frame.appendEvent(out, e)
		}
		ping := c.ping.Swap(false)
		if ping && len(out) == 0 {
			out = append(out, keepAliveComment...)
		}
		drain := c.draining.Load() && status == sessions.ReadMore
		if drain {
			out = appendRetry(out, c.h.opts.RetryHint+jitter(c.h.drainWindow()))
			out = append(out, '\n')
		}
		sc.out = out
		if len(out) > 0 && !c.write(out) || status != sessions.ReadMore || drain {
			c.close()
			return
		}
		if c.state.CompareAndSwap(connRunning, connIdle) {
			return
		}
		c.state.Store(connRunning) // woken while writing: once more
	}
}

// write writes b to the connection within Options.WriteTimeout: a client
// that reads nothing for that long is cut off.
func (c *sseConn) write(b []byte) bool {
	if t := c.h.opts.WriteTimeout; t > 0 {
		if c.conn.SetWriteDeadline(time.Now().Add(t)) != nil {
			return false
		}
	}
	_, err := c.conn.Write(b)
	return err == nil
}

// kill makes the conn close at once: a write in progress fails, and the
// next pump closes it.
func (c *sseConn) kill() {
	c.killed.Store(true)
	_ = c.conn.Close()
	c.wake()
}

// close ends the conn: connection, reader, registry. Only a pump calls it
// (or the reaper, for a conn that never started).
func (c *sseConn) close() {
	c.closed = true
	_ = c.conn.Close()
	if c.stream == 0 {
		c.h.releaseGET(c.s) // before the reader detaches (getclaims.go)
	}
	c.r.Close()
	c.h.unregisterSSE(c)
	if c.opened {
		c.h.opts.Observer.StreamClosed(true)
	}
	close(c.done)
	c.h.writers.Done()
}

// The Handler's registry of GET streams, for keep-alives, drain and stop.
type sseRegistry struct {
	mu    sync.Mutex            // guards conns and standalone
	conns map[*sseConn]struct{} // live GET streams
	// standalone is each session's GET stream (stream 0), for a new GET
	// that finds it attached (reapDeadGET).
	standalone map[*sessions.Session]*sseConn
	once       sync.Once // starts the keep-alive ticker
}

func (h *Handler) registerSSE(c *sseConn) {
	h.sse.mu.Lock()
	if h.sse.conns == nil {
		h.sse.conns = make(map[*sseConn]struct{})
		h.sse.standalone = make(map[*sessions.Session]*sseConn)
	}
	h.sse.conns[c] = struct{}{}
	if c.stream == 0 {
		h.sse.standalone[c.s] = c
	}
	h.sse.mu.Unlock()
	if h.opts.KeepAlive > 0 {
		h.sse.once.Do(func() { go h.keepAlive() })
	}
}

func (h *Handler) unregisterSSE(c *sseConn) {
	h.sse.mu.Lock()
	delete(h.sse.conns, c)
	if h.sse.standalone[c.s] == c {
		delete(h.sse.standalone, c.s)
	}
	h.sse.mu.Unlock()
}

// reapWait bounds how long a GET waits for the dead stream it found to be
// closed (a pump on a worker closes it, normally within microseconds).
const reapWait = 250 * time.Millisecond

// reapDeadGET is for a GET that finds session s's GET stream attached: if
// the client of that stream has hung up (peerGone), the stream is closed
// and reapDeadGET reports true once it is detached, so that the new GET
// can take its place instead of getting 409. A client that closed its GET
// stream and opened another is so served at once, not after a keep-alive
// write happens to fail (issue #15). It reports false when the stream is
// alive, not yet started, or not closed within reapWait.
func (h *Handler) reapDeadGET(s *sessions.Session) bool {
	h.sse.mu.Lock()
	c := h.sse.standalone[s]
	h.sse.mu.Unlock()
	if c == nil || !c.started.Load() || !peerGone(c.conn) {
		return false
	}
	c.kill()
	t := time.NewTimer(reapWait)
	defer t.Stop()
	select {
	case <-c.done:
		return true
	case <-t.C:
		return false
	}
}

// eachSSE calls f for every registered GET stream, outside the lock.
func (h *Handler) eachSSE(f func(c *sseConn)) {
	h.sse.mu.Lock()
	conns := make([]*sseConn, 0, len(h.sse.conns))
	for c := range h.sse.conns {
		conns = append(conns, c)
	}
	h.sse.mu.Unlock()
	for _, c := range conns {
		f(c)
	}
}

// keepAlive asks every GET stream for a keep-alive comment each
// Options.KeepAlive, closes those whose client has hung up (peerGone: one
// non-blocking peek each, so a dead stream and its memory go within one
// interval, not when a write into it happens to fail), and reaps a stream
// whose hijacked connection fasthttp never handed over (the client left
// first), which would otherwise keep its session busy. Owner: the Handler
// (started with the first GET stream); exit: the end of Shutdown (stop).
func (h *Handler) keepAlive() {
	t := time.NewTicker(h.opts.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case now := <-t.C:
			h.eachSSE(func(c *sseConn) {
				if c.started.Load() {
					if peerGone(c.conn) {
						c.kill()
						return
					}
					c.ping.Store(true)
					c.wake()
					return
				}
				if now.Sub(c.created) > h.opts.KeepAlive && c.started.CompareAndSwap(false, true) {
					c.close()
				}
			})
		}
	}
}

// drainSSE ends every GET stream at a random moment within window, after
// a retry field (see Shutdown).
func (h *Handler) drainSSE(window time.Duration) {
	h.eachSSE(func(c *sseConn) {
		time.AfterFunc(jitter(window), func() {
			c.draining.Store(true)
			c.wake()
		})
	})
}

// stopSSE closes every GET stream at once.
func (h *Handler) stopSSE() {
	h.eachSSE(func(c *sseConn) { c.kill() })
}
