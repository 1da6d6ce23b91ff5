package transport

import (
	"errors"
	"log/slog"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DeadlineSlack is how much earlier than asked a read deadline may fire on
// a connection accepted by a [ConnListener]: 1s. It is also how far behind its
// due time the automatic write deadline may be before a Write moves it.
const DeadlineSlack = time.Second

// clockTick is how often a [ConnListener] reads the time for its
// connections' write deadlines: 250ms, or an eighth of a shorter write
// timeout (clockTickOf).
const clockTick = 250 * time.Millisecond

// clockTickOf is the clock's period for write timeout d.
func clockTickOf(d time.Duration) time.Duration { return max(min(clockTick, d/8), time.Millisecond) }

// Accept backoff on temporary errors, as net/http's Server.Serve: 5ms,
// doubling, at most 1s.
const (
	acceptMinDelay = 5 * time.Millisecond
	acceptMaxDelay = time.Second
)

// logEvery is the least time between two log lines about accept errors,
// or about refused connections: 10s.
const logEvery = 10 * time.Second

// refuseWriteTimeout bounds the write of the 503 to a connection refused
// at the cap: 100ms. The socket is fresh, so the write does not block
// unless something is badly wrong.
const refuseWriteTimeout = 100 * time.Millisecond

// fiberConcurrency is Fiber's default Concurrency: fasthttp refuses
// connections past it with its own 503.
const fiberConcurrency = 256 * 1024

// refusedResponse is the whole HTTP/1.1 response written to a connection
// refused at the cap, built once from its refusal (refuseConnections): 503,
// Retry-After, Connection: close and a JSON-RPC error body.
var refusedResponse = rawRefusal(refuseConnections, int(DefaultRetryAfter/time.Second))

// ListenerOptions configure [NewListener]. A nil *ListenerOptions means
// defaults; each zero field means its default.
type ListenerOptions struct {
	// MaxConnections caps the connections open at once (accepted and not
	// yet closed, GET streams included). Past it a new connection is
	// answered at once with 503, Retry-After, Connection: close and a
	// JSON-RPC error body, then closed; open ones keep working. Default:
	// [DefaultMaxConnections](). Negative: no cap.
	MaxConnections int
	// WriteTimeout bounds each Write to an accepted connection: a Write
	// that cannot finish within it (a client that reads nothing) fails
	// with a deadline error, and fasthttp then closes the connection.
	// Precision: a blocked Write fails between WriteTimeout-1.25s and
	// WriteTimeout after it started (see [ConnListener]). Default: 30s
	// ([DefaultWriteTimeout]). Negative: none.
	WriteTimeout time.Duration
	// Logger receives a warning, at most one per 10s, when Accept fails
	// and backs off or when connections are refused at the cap, with the
	// count since the last one. Default: slog.Default().
	Logger *slog.Logger
	// OnAcceptError, if set, is called with each temporary Accept error
	// (EMFILE, ENFILE, ENOBUFS, ENOMEM, ECONNABORTED…), before the
	// backoff, on the goroutine calling Accept. Optional.
	OnAcceptError func(err error)
	// OnRefused, if set, is called after each connection refused at the
	// cap, on the goroutine calling Accept. Optional.
	OnRefused func()
}

// ListenerStats are a [ConnListener]'s counts, for metrics.
type ListenerStats struct {
	// Open is the connections accepted and not yet closed.
	Open int64
	// Refused is the connections refused at the cap since the start.
	Refused int64
	// AcceptErrors is the temporary Accept errors retried since the start.
	AcceptErrors int64
}

// A ConnListener is a net.Listener that survives descriptor exhaustion, caps
// its open connections, bounds the writes to them, and coalesces their
// read deadlines. Make one with [NewListener].
//
// Accept. A temporary error from the wrapped listener's Accept (EMFILE,
// ENFILE, ENOBUFS, ENOMEM, ECONNABORTED, ECONNRESET, EINTR, EAGAIN, EPROTO,
// EPERM, or a timeout) is not returned, unlike fasthttp v1.73's accept loop
// which returns it and makes Serve fail: Accept waits 5ms, doubling up to
// 1s, as net/http's Server.Serve does, and tries again, so connections
// already open are closed in the meantime and free descriptors. Close ends
// the wait at once, and Accept then returns net.ErrClosed.
//
// Connection cap. Each accepted connection counts until its first Close,
// including a hijacked GET-stream connection that our code closes. Past
// ListenerOptions.MaxConnections, a new connection gets a prebuilt 503
// (written with a 100ms deadline, no allocation) and is closed. With TLS
// outside the ConnListener, as the mcpfiber binary serves it, the 503 is not
// TLS and the client sees a handshake failure instead; either way it is
// closed at once. A client that sent its request before reading may see
// the close as a reset.
//
// Write timeout. Each Write to an accepted connection carries a write
// deadline of WriteTimeout after it starts, kept cheap: the ConnListener's
// goroutine stores a coarse clock every 250ms, or an eighth of a shorter
// WriteTimeout (owner: the ConnListener; exit:
// Close, once the last connection is closed), and Write moves the
// deadline, from that clock, only when the one in force is a slack or
// more behind clock+WriteTimeout (DeadlineSlack, or a quarter of
// WriteTimeout when that is shorter: see writeSlackOf), so a busy
// connection re-arms it about once a second and a Write pays two atomic
// loads and a compare the rest of the time, where a time.Now and a
// SetWriteDeadline per request would cost more than the whole 404 path
// (BenchmarkWriteWrapper). A blocked Write therefore fails between
// WriteTimeout-slack-tick and WriteTimeout after it started: at least
// 5/8 of WriteTimeout, at most 1.25s less.
// fasthttp's own Server.WriteTimeout is not used instead: it arms one
// deadline before writing a whole response, so it would end a long SSE
// response (a POST's stream) that is being read, and it costs a time.Now
// and a SetWriteDeadline per request. A deadline our code sets with
// SetWriteDeadline or SetDeadline (the GET-stream writer sets one per
// write) takes over from the automatic one until the zero time is set,
// which hands the connection back to it.
//
// Read deadlines move only when they must: a new one that is later than
// the one in force by less than DeadlineSlack is not passed on, so the one
// in force (at most DeadlineSlack earlier) stays. fasthttp re-arms the
// read deadline twice per keep-alive request when ReadTimeout or
// IdleTimeout is set: with its time.Now calls, more than the whole 404
// path in-process. With ReadTimeout and IdleTimeout equal, as [NewApp]
// sets them, a busy connection passes one on about once a second instead,
// and what remains is mostly fasthttp's time.Now calls (BenchmarkDeadline).
// Earlier deadlines, the zero time (no deadline) and SetDeadline are always
// passed on.
//
// Wrap the TCP listener, inside any TLS listener: tls.Conn sets its
// deadlines on, and writes its records to, the connection it wraps. The
// mcpfiber binary does. The ConnListener's connections keep every method of
// net.Conn, and the ConnListener and its connections are safe for concurrent
// use.
type ConnListener struct {
	net.Listener
	max          int64 // 0: no cap
	writeTimeout int64 // nanoseconds; 0: none
	writeSlack   int64 // nanoseconds: how far behind the write deadline may be before a Write moves it; writeSlackOf(writeTimeout)
	onAcceptErr  func(error)
	onRefused    func()
	logger       *slog.Logger

	clock        atomic.Int64 // coarse time.Now, Unix nanoseconds, with writeTimeout
	open         atomic.Int64
	refused      atomic.Int64
	acceptErrors atomic.Int64
	closed       chan struct{}
	once         sync.Once

	logMu      sync.Mutex // guards the rest
	acceptLog  rateLog
	refusedLog rateLog
}

// Listener wraps ln in a [ConnListener] with the default options:
// NewListener(ln, nil).
func Listener(ln net.Listener) net.Listener { return NewListener(ln, nil) }

// NewListener wraps ln, the TCP listener (inside any TLS one); a nil opts
// means defaults. With a write timeout it starts the ConnListener's clock
// goroutine, which ends once the ConnListener is closed and its connections
// are: Close it.
func NewListener(ln net.Listener, opts *ListenerOptions) *ConnListener {
	var o ListenerOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = DefaultMaxConnections()
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	l := &ConnListener{
		Listener:    ln,
		max:         int64(max(o.MaxConnections, 0)),
		onAcceptErr: o.OnAcceptError,
		onRefused:   o.OnRefused,
		logger:      o.Logger,
		closed:      make(chan struct{}),
	}
	if o.WriteTimeout > 0 {
		l.writeTimeout = int64(o.WriteTimeout)
		l.writeSlack = int64(writeSlackOf(o.WriteTimeout))
		l.clock.Store(time.Now().UnixNano())
		go l.tick() // owner: the ConnListener; exit: Close, and no connection open
	}
	return l
}

// MaxConnections returns the cap on open connections, 0 for none.
func (l *ConnListener) MaxConnections() int { return int(l.max) }

// WriteTimeout returns the bound on each Write, 0 for none.
func (l *ConnListener) WriteTimeout() time.Duration { return time.Duration(l.writeTimeout) }

// Stats returns the ConnListener's counts. It does not allocate.
func (l *ConnListener) Stats() ListenerStats {
	return ListenerStats{Open: l.open.Load(), Refused: l.refused.Load(), AcceptErrors: l.acceptErrors.Load()}
}

// Accept returns the next connection, wrapped, retrying temporary errors
// with a backoff and refusing connections past the cap (see [ConnListener]).
// It returns an error when the wrapped listener's Accept fails otherwise,
// as it does once closed. It allocates the wrapper.
func (l *ConnListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if l.isClosed() { // the wrapped listener may not be closed yet
				return nil, net.ErrClosed
			}
			if !temporary(err) {
				return nil, err
			}
			delay = min(max(2*delay, acceptMinDelay), acceptMaxDelay)
			l.backoff(err, delay)
			continue // once closed, Accept returns the close error at once
		}
		delay = 0
		if n := l.open.Add(1); l.max > 0 && n > l.max {
			l.open.Add(-1)
			l.refuse(c)
			continue
		}
		return &deadlineConn{Conn: c, l: l}, nil
	}
}

// Close closes the wrapped listener, and ends an Accept waiting after an
// error. Connections already accepted stay open.
func (l *ConnListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func (l *ConnListener) isClosed() bool {
	select {
	case <-l.closed:
		return true
	default:
		return false
	}
}

// backoff counts err, tells the hook and the log, and waits for delay, or
// until Close.
func (l *ConnListener) backoff(err error, delay time.Duration) {
	l.acceptErrors.Add(1)
	if l.onAcceptErr != nil {
		l.onAcceptErr(err)
	}
	if n, ok := l.acceptLog.due(&l.logMu); ok {
		l.logger.Warn("accept failed; retrying", "err", err, "delay", delay, "errors", n, "open_connections", l.open.Load())
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-l.closed:
	}
}

// refuse answers c with the prebuilt 503 and closes it. It does not
// allocate.
func (l *ConnListener) refuse(c net.Conn) {
	l.refused.Add(1)
	_ = c.SetWriteDeadline(time.Now().Add(refuseWriteTimeout))
	_, _ = c.Write(refusedResponse)
	_ = c.Close()
	if l.onRefused != nil {
		l.onRefused()
	}
	if n, ok := l.refusedLog.due(&l.logMu); ok {
		l.logger.Warn("connections refused at the cap", "refused", n, "max_connections", l.max)
	}
}

// tick keeps l.clock within clockTickOf(WriteTimeout) of the time until the ConnListener is
// closed and no connection is open.
func (l *ConnListener) tick() {
	t := time.NewTicker(clockTickOf(time.Duration(l.writeTimeout)))
	defer t.Stop()
	for range t.C {
		l.clock.Store(time.Now().UnixNano())
		if l.isClosed() && l.open.Load() <= 0 {
			return
		}
	}
}

// rateLog lets a log line through at most once per logEvery, with the
// number of events since the last one.
type rateLog struct {
	last  time.Time
	count int64
}

// due counts an event, and reports whether to log now and how many events
// the line stands for.
func (r *rateLog) due(mu *sync.Mutex) (int64, bool) {
	mu.Lock()
	defer mu.Unlock()
	r.count++
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < logEvery {
		return 0, false
	}
	n := r.count
	r.last, r.count = now, 0
	return n, true
}

// temporary reports whether an Accept error is worth retrying: the process
// or the system is out of descriptors, buffers or memory for now, the
// connection died before it was accepted, or a timeout.
func temporary(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	for _, e := range []error{
		syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN,
		syscall.EPROTO, syscall.EPERM,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

// DefaultMaxConnections is the default cap on open connections:
// max(soft*3/4, soft-1024) for the RLIMIT_NOFILE soft limit soft, at most
// 262144 (Fiber's default Concurrency, past which fasthttp refuses
// connections anyway) and at least 1; 262144 when the limit is unknown or
// unlimited. It reads the limit each call (a system call; it does not
// allocate).
//
// The rest of the descriptors are kept for what else the process opens
// while every connection is open: the listeners (MCP and metrics) and
// metrics scrapes, stdio children (three pipes each; 8 per CPU by
// default), connections to back-end services, files (TLS keys, /proc for
// the process collector), the runtime's epoll and pipes. A quarter of a
// small limit (256 of 1024) or 1024 of a large one leaves room for these;
// with many more stdio children than about 300, set --max-connections.
func DefaultMaxConnections() int {
	soft, err := openFileLimit()
	if err != nil || soft == 0 || soft > math.MaxInt32 {
		return fiberConcurrency
	}
	n := int(soft)
	return min(max(n*3/4, n-1024, 1), fiberConcurrency)
}

// RaiseOpenFileLimit raises the RLIMIT_NOFILE soft limit to the hard
// limit unless it is there already, and returns the soft limit in force
// afterwards (and the error of a system call that failed). Calling it
// again does nothing more.
//
// Go (1.19 and later, on Unix) already raises the soft limit at start, to
// the hard limit minus one on Go 1.26 (so that it can tell whether someone
// changed it), and restores the original soft limit in the children it
// starts (stdio servers). RaiseOpenFileLimit leaves a soft limit of at
// least hard-1 alone so that children keep getting the original one; a
// Setrlimit here would stop that.
func RaiseOpenFileLimit() (soft uint64, err error) { return raiseOpenFileLimit() }

// deadlineConn is a net.Conn of a [ConnListener]: its read deadline moves only
// when it must, its Writes carry the write timeout, and its first Close
// counts it out.
type deadlineConn struct {
	net.Conn
	l      *ConnListener
	closed atomic.Bool
	// write is the write deadline in force on Conn, in Unix nanoseconds; 0:
	// none, the next Write sets one; writeExplicit: one our code set.
	write atomic.Int64
	mu    sync.Mutex // guards read, and the setting of write
	// read is the read deadline in force on Conn, in Unix nanoseconds; 0:
	// none.
	read int64
}

// writeExplicit marks a write deadline set by SetWriteDeadline or
// SetDeadline: Write leaves it alone.
const writeExplicit = math.MaxInt64

// writePiece is the most a Write hands the wrapped connection under one
// write deadline: a large response (fasthttp writes a body set with
// SetBody in one Write) is written in pieces, each of which must finish
// within the write timeout, so the timeout bounds how long a client may
// read nothing, not how long a large response may take to a slow but
// steady reader.
const writePiece = 64 << 10

// Write writes b, with a write deadline of the ConnListener's write timeout
// (see [ConnListener]), in pieces of at most writePiece bytes. It does not
// allocate.
func (c *deadlineConn) Write(b []byte) (int, error) {
	wt := c.l.writeTimeout
	if wt <= 0 {
		return c.Conn.Write(b)
	}
	written := 0
	for {
		// writeExplicit makes the difference negative: no re-arm.
		if want := c.l.clock.Load() + wt; want-c.write.Load() >= c.l.writeSlack {
			if err := c.armWrite(want); err != nil {
				return written, err
			}
		}
		p := b[written:]
		if len(p) > writePiece {
			p = p[:writePiece]
		}
		n, err := c.Conn.Write(p)
		written += n
		if err != nil || written == len(b) {
			return written, err
		}
	}
}

// armWrite sets the automatic write deadline want unless, by now, the one
// in force is close enough or our code set one.
func (c *deadlineConn) armWrite(want int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if want-c.write.Load() < c.l.writeSlack {
		return nil
	}
	if err := c.Conn.SetWriteDeadline(time.Unix(0, want)); err != nil {
		return err
	}
	c.write.Store(want)
	return nil
}

// SetWriteDeadline sets the write deadline, always. A non-zero t takes
// over from the ConnListener's write timeout; the zero time hands the
// connection back to it (the next Write sets a deadline). It does not
// allocate.
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	c.write.Store(explicitWrite(t))
	return nil
}

// SetReadDeadline sets the read deadline, or keeps the one in force when
// t is later than it by less than DeadlineSlack. It does not allocate.
func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	want := unixNano(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	if want != 0 && c.read != 0 && want >= c.read && want-c.read < int64(DeadlineSlack) {
		return nil
	}
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	c.read = want
	return nil
}

// SetDeadline sets both deadlines, always; for the write deadline, as
// SetWriteDeadline.
func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Conn.SetDeadline(t); err != nil {
		return err
	}
	c.read = unixNano(t)
	c.write.Store(explicitWrite(t))
	return nil
}

// Close closes the connection; the first Close counts it out of the
// ConnListener's open connections.
func (c *deadlineConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.l.open.Add(-1)
	}
	return c.Conn.Close()
}

// explicitWrite is what deadlineConn.write records for a write deadline
// our code set.
func explicitWrite(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return writeExplicit
}

// unixNano is t in Unix nanoseconds, 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// writeSlackOf is how far behind the write deadline in force may be before
// a write moves it, for a write timeout d: DeadlineSlack, or d/4 when that
// is shorter, so that a short timeout (tests, a strict deployment) still
// leaves a write most of it.
func writeSlackOf(d time.Duration) time.Duration { return min(DeadlineSlack, d/4) }
