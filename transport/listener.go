package transport

import (
	"net"
	"sync"
	"time"
)

// DeadlineSlack is how much earlier than asked a read deadline may fire on
// a connection accepted by a [Listener]: 1s.
const DeadlineSlack = time.Second

// Listener wraps ln so that its connections move their read deadline only
// when it must move: a new deadline that is later than the one in force by
// less than DeadlineSlack is not passed on, so the one in force (at most
// DeadlineSlack earlier) stays.
//
// fasthttp re-arms the read deadline twice per keep-alive request when
// ReadTimeout or IdleTimeout is set: with its time.Now calls, about 380 ns
// per request, more than the whole 404 path in-process. With ReadTimeout
// and IdleTimeout equal, as [NewApp] sets them, a busy connection passes
// one on about once a second instead, and the two cost about 145 ns, most
// of it fasthttp's time.Now calls (BenchmarkDeadline). Earlier deadlines, the zero time (no deadline) and
// SetDeadline are always passed on, and write deadlines are not touched.
//
// Wrap the TCP listener, inside any TLS listener: tls.Conn sets its
// deadlines on the connection it wraps. The mcpfiber binary does. The
// returned listener's connections keep every method of net.Conn, and are
// safe for concurrent use as net.Conn requires.
func Listener(ln net.Listener) net.Listener { return deadlineListener{ln} }

type deadlineListener struct{ net.Listener }

// Accept returns the next connection, wrapped. It allocates the wrapper.
func (l deadlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c}, nil
}

// deadlineConn is a net.Conn whose read deadline moves only when it must
// (see Listener).
type deadlineConn struct {
	net.Conn
	mu sync.Mutex
	// read is the read deadline in force on Conn, in Unix nanoseconds; 0:
	// none.
	read int64
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

// SetDeadline sets both deadlines, always.
func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Conn.SetDeadline(t); err != nil {
		return err
	}
	c.read = unixNano(t)
	return nil
}

// unixNano is t in Unix nanoseconds, 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
