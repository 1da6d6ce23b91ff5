package transport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// loopbackPair returns a connection accepted by a Listener on 127.0.0.1 and
// the client end dialed to it; both are closed when the test ends.
func loopbackPair(tb testing.TB) (server *deadlineConn, client net.Conn) {
	tb.Helper()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ln := Listener(tcp)
	defer ln.Close()
	client, err = net.Dial("tcp", tcp.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { client.Close() })
	c, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c.(*deadlineConn), client
}

// TestListenerDeadlineRules checks which read deadlines reach the
// connection: a later one only by DeadlineSlack or more; an earlier one,
// the zero time and SetDeadline always.
func TestListenerDeadlineRules(t *testing.T) {
	c, _ := loopbackPair(t)
	base := time.Now().Add(time.Minute)
	steps := []struct {
		name string
		set  func() error
		want time.Time // the deadline in force after the step
	}{
		{"first", func() error { return c.SetReadDeadline(base) }, base},
		{"later by less than the slack", func() error { return c.SetReadDeadline(base.Add(DeadlineSlack - 1)) }, base},
		{"same", func() error { return c.SetReadDeadline(base) }, base},
		{"later by the slack", func() error { return c.SetReadDeadline(base.Add(DeadlineSlack)) }, base.Add(DeadlineSlack)},
		{"earlier", func() error { return c.SetReadDeadline(base.Add(time.Millisecond)) }, base.Add(time.Millisecond)},
		{"none", func() error { return c.SetReadDeadline(time.Time{}) }, time.Time{}},
		{"after none", func() error { return c.SetReadDeadline(base) }, base},
		{"SetDeadline later by less than the slack", func() error { return c.SetDeadline(base.Add(time.Millisecond)) }, base.Add(time.Millisecond)},
		{"SetDeadline none", func() error { return c.SetDeadline(time.Time{}) }, time.Time{}},
	}
	for _, s := range steps {
		if err := s.set(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := c.read; got != unixNano(s.want) {
			t.Errorf("%s: deadline in force %d, want %d", s.name, got, unixNano(s.want))
		}
	}
}

// TestListenerDeadlineFires checks on a real connection that a read
// deadline kept instead of a later one fires, and that one set in the past
// ends a blocked Read however far the one in force was.
func TestListenerDeadlineFires(t *testing.T) {
	c, client := loopbackPair(t)
	buf := make([]byte, 1)

	// In force: now+50ms. Asked for: 500ms later, within the slack. The
	// Read ends at the first, well before the second.
	start := time.Now()
	if err := c.SetReadDeadline(start.Add(50 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(start.Add(550 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read: %v, want a deadline error", err)
	}

	// A deadline an hour away, then one in the past: Read fails at once.
	if err := c.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read after a past deadline: %v, want a deadline error", err)
	}

	// No deadline: Read waits for the client's byte.
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(buf); n != 1 || err != nil {
		t.Fatalf("Read with no deadline: %d, %v; want the client's byte", n, err)
	}
}

// quietLogger discards what a ConnListener logs.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// acceptAll accepts connections from l until it fails, and sends them on
// the returned channel. The goroutine ends when l is closed.
func acceptAll(t *testing.T, l *ConnListener) <-chan net.Conn {
	t.Helper()
	conns := make(chan net.Conn, 16)
	go func() { // owner: the test; exit: l closed
		defer close(conns)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	return conns
}

func dial(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func receive(t *testing.T, conns <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c := <-conns:
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted within 5s")
		return nil
	}
}

// TestListenerCap checks the cap on open connections: past it a new
// connection gets the prebuilt 503 and EOF while the open ones keep
// working; a Close (counted once) makes room for a new one; the clock
// goroutine ends once the listener and its connections are closed.
func TestListenerCap(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var refusedHook atomic.Int64
	l := NewListener(tcp, &ListenerOptions{MaxConnections: 2, Logger: quietLogger, OnRefused: func() { refusedHook.Add(1) }})
	defer l.Close()
	conns := acceptAll(t, l)

	first, second := dial(t, l.Addr()), dial(t, l.Addr())
	s1, s2 := receive(t, conns), receive(t, conns)
	if got := l.Stats(); got.Open != 2 || got.Refused != 0 {
		t.Fatalf("after two connections: %+v, want 2 open, 0 refused", got)
	}

	third := dial(t, l.Addr())
	_ = third.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(third)
	if err != nil {
		t.Fatalf("reading the refused connection: %v", err)
	}
	if !bytes.Equal(got, refusedResponse) {
		t.Fatalf("refused connection got %q, want %q", got, refusedResponse)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "5" || resp.Header.Get("Content-Type") != "application/json" || !resp.Close ||
		!json.Valid(body) || !bytes.Contains(body, []byte(`"code":-32000`)) {
		t.Fatalf("refusal: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if got := l.Stats(); got.Open != 2 || got.Refused != 1 {
		t.Fatalf("after the refusal: %+v; want 2 open, 1 refused", got)
	}
	waitFor(t, 5*time.Second, func() error { // the hook runs after the close the client saw
		if n := refusedHook.Load(); n != 1 {
			return fmt.Errorf("OnRefused called %d times, want 1", n)
		}
		return nil
	})

	// The open ones still work.
	for i, p := range [][2]net.Conn{{first, s1}, {second, s2}} {
		if _, err := p[0].Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1)
		if _, err := io.ReadFull(p[1], buf); err != nil || buf[0] != byte(i) {
			t.Fatalf("open connection %d: %v", i, err)
		}
	}

	// Closing one (twice: counted once) makes room.
	s1.Close()
	s1.Close()
	if got := l.Stats().Open; got != 1 {
		t.Fatalf("after a Close: %d open, want 1", got)
	}
	dial(t, l.Addr())
	receive(t, conns)
	if got := l.Stats(); got.Open != 2 || got.Refused != 1 {
		t.Fatalf("after closing one and dialing again: %+v, want 2 open, 1 refused", got)
	}

	l.Close()
	for range conns { // the accept goroutine ends
	}
}

// TestListenerClockEnds checks that the clock goroutine ends once the
// listener is closed and its last connection is.
func TestListenerClockEnds(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := NewListener(tcp, &ListenerOptions{WriteTimeout: time.Minute, Logger: quietLogger})
	conns := acceptAll(t, l)
	dial(t, l.Addr())
	c := receive(t, conns)
	l.Close()
	before := l.clock.Load()
	testutil.WaitFor(t, 5*time.Second, func() error {
		if l.clock.Load() == before {
			return errors.New("clock not moving while a connection is open")
		}
		return nil
	})
	c.Close()
	if err := testutil.NoLeaks(5*time.Second, "transport.(*ConnListener).tick"); err != nil {
		t.Fatal(err)
	}
}

// flakyListener fails Accept with errs, in order, then returns conn, then
// fails as closed once Close is called (until then, with the last error).
type flakyListener struct {
	errs   []error
	conn   net.Conn
	closed chan struct{}
	once   sync.Once
	calls  atomic.Int64
}

func (f *flakyListener) Accept() (net.Conn, error) {
	select {
	case <-f.closed:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: net.ErrClosed}
	default:
	}
	i := int(f.calls.Add(1)) - 1
	switch {
	case i < len(f.errs):
		return nil, f.errs[i]
	case f.conn != nil && i == len(f.errs):
		return f.conn, nil
	}
	return nil, f.errs[len(f.errs)-1]
}

func (f *flakyListener) Close() error   { f.once.Do(func() { close(f.closed) }); return nil }
func (f *flakyListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func emfile() error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
}

// logCounter counts the log records whose message is msg.
type logCounter struct {
	msg string
	n   *atomic.Int64
}

func (h logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h logCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h logCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logCounter) WithGroup(string) slog.Handler      { return h }

// TestListenerAcceptBackoff checks that temporary Accept errors (EMFILE in
// a *net.OpError, ECONNABORTED, ENFILE) are retried with a backoff,
// counted, given to the hook and logged once, and that Accept then
// returns the connection.
func TestListenerAcceptBackoff(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	errs := []error{emfile(), emfile(), syscall.ECONNABORTED, emfile(), &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.ENFILE)}}
	inner := &flakyListener{errs: errs, conn: server, closed: make(chan struct{})}
	var seen []error
	var logged atomic.Int64
	l := NewListener(inner, &ListenerOptions{
		WriteTimeout:  -1,
		Logger:        slog.New(logCounter{"accept failed; retrying", &logged}),
		OnAcceptError: func(err error) { seen = append(seen, err) },
	})
	defer l.Close()
	start := time.Now()
	c, err := l.Accept()
	took := time.Since(start)
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if c.(*deadlineConn).Conn != server {
		t.Fatal("Accept returned another connection")
	}
	c.Close()
	if len(seen) != len(errs) || l.Stats().AcceptErrors != int64(len(errs)) {
		t.Fatalf("hook saw %d errors, Stats %+v; want %d", len(seen), l.Stats(), len(errs))
	}
	for i := range errs {
		if seen[i] != errs[i] {
			t.Errorf("hook error %d: %v, want %v", i, seen[i], errs[i])
		}
	}
	if n := logged.Load(); n != 1 {
		t.Errorf("logged %d lines, want 1 (at most one per 10s)", n)
	}
	// 5+10+20+40+80 ms of backoff.
	if want := 155 * time.Millisecond; took < want {
		t.Errorf("Accept took %v, want at least %v of backoff", took, want)
	}

	// A permanent error is returned as is.
	perm := errors.New("permanent")
	l2 := NewListener(&flakyListener{errs: []error{perm}, closed: make(chan struct{})}, &ListenerOptions{WriteTimeout: -1, Logger: quietLogger})
	if _, err := l2.Accept(); err != perm {
		t.Fatalf("Accept with a permanent error: %v, want it", err)
	}
}

// TestListenerCloseDuringBackoff checks that Close ends an Accept waiting
// after an error at once, with the close error.
func TestListenerCloseDuringBackoff(t *testing.T) {
	inner := &flakyListener{errs: []error{emfile()}, closed: make(chan struct{})}
	l := NewListener(inner, &ListenerOptions{WriteTimeout: -1, Logger: quietLogger})
	done := make(chan error, 1)
	go func() { _, err := l.Accept(); done <- err }() // owner: the test; exit: Close
	// After 7 errors (315ms) the wait is 640ms.
	testutil.WaitFor(t, 5*time.Second, func() error {
		if n := l.Stats().AcceptErrors; n < 7 {
			return fmt.Errorf("%d accept errors", n)
		}
		return nil
	})
	start := time.Now()
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
		}
		if took := time.Since(start); took > 400*time.Millisecond { // the wait cut short: 640ms
			t.Fatalf("Accept returned %v after Close, want at once", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still waiting 5s after Close")
	}
}

// TestListenerWriteDeadlineRules checks which write deadlines reach the
// connection: Write arms one from the clock, and moves it only when it is
// DeadlineSlack behind; a deadline set by SetWriteDeadline or SetDeadline
// takes over until the zero time hands the connection back.
func TestListenerWriteDeadlineRules(t *testing.T) {
	c, client := loopbackPair(t)
	go io.Copy(io.Discard, client) // owner: the test; exit: client closed at Cleanup
	wt := c.l.writeTimeout
	write := func() {
		t.Helper()
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	now := c.l.clock.Load()
	write()
	if got := c.write.Load(); got != now+wt {
		t.Fatalf("first Write: deadline %d, want clock+timeout %d", got, now+wt)
	}
	c.l.clock.Store(now + int64(DeadlineSlack) - 1)
	write()
	if got := c.write.Load(); got != now+wt {
		t.Fatalf("clock moved by less than the slack: deadline %d, want it kept at %d", got, now+wt)
	}
	c.l.clock.Store(now + int64(DeadlineSlack))
	write()
	if got := c.write.Load(); got != now+int64(DeadlineSlack)+wt {
		t.Fatalf("clock moved by the slack: deadline %d, want %d", got, now+int64(DeadlineSlack)+wt)
	}
	if err := c.SetWriteDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c.l.clock.Store(now + 10*int64(time.Hour))
	write()
	if got := c.write.Load(); got != writeExplicit {
		t.Fatalf("after SetWriteDeadline: %d, want it left to the caller", got)
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	write()
	if got := c.write.Load(); got != now+10*int64(time.Hour)+wt {
		t.Fatalf("after SetDeadline(zero): %d, want the automatic deadline again", got)
	}
	// An explicit deadline in the past still fails the next Write.
	if err := c.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write after a past deadline: %v, want a deadline error", err)
	}
}

// TestListenerWriteTimeout serves a 32 MiB body with fasthttp on a
// ConnListener with a 300ms write timeout to a client with a 4 KiB receive
// buffer that never reads: the write fails within the timeout, fasthttp
// closes the connection, and the client, reading at last, gets less than
// the body and then EOF or a reset.
func TestListenerWriteTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	written := make(chan time.Time, 1)
	l := serveBody(t, timeout, 32<<20, func() { written <- time.Now() })

	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	client, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	var start time.Time
	select {
	case start = <-written:
	case <-time.After(5 * time.Second):
		t.Fatal("no request served within 5s")
	}
	// Without the write timeout the connection would stay open for good
	// (the client never reads). The bound is loose on purpose: a busy
	// machine under -race has taken 1.37 s for what takes 0.3 s here.
	limit := 4 * (timeout + DeadlineSlack)
	testutil.WaitFor(t, 2*limit, func() error {
		if n := l.Stats().Open; n != 0 {
			return fmt.Errorf("%d connections open", n)
		}
		return nil
	})
	took := time.Since(start)
	if took > limit {
		t.Errorf("connection closed %v after the response began, want within %v", took, limit)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, client)
	if n >= 32<<20 || err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read %d bytes, %v; want less than the body, then EOF or a reset", n, err)
	}
	t.Logf("closed after %v; client got %d of %d bytes", took, n, 32<<20)
}

// BenchmarkWriteWrapper measures what a ConnListener's Write adds to the
// wrapped Write, with a wrapped connection that discards what it is given:
// conn=discard is that connection, conn=listener the same through the
// wrapper with the default write timeout.
//
// go test ./transport -run='^$' -bench=BenchmarkWriteWrapper -count=10
func BenchmarkWriteWrapper(b *testing.B) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	l := NewListener(tcp, &ListenerOptions{MaxConnections: -1, Logger: quietLogger})
	defer l.Close()
	inner := discardConn{}
	c := &deadlineConn{Conn: inner, l: l}
	l.open.Add(1)
	defer c.Close()
	msg := []byte("event: message\ndata: {}\n\n")
	for _, conn := range []struct {
		name string
		c    net.Conn
	}{{"discard", inner}, {"listener", c}} {
		b.Run("conn="+conn.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := conn.c.Write(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// discardConn is a net.Conn that discards writes and accepts deadlines.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
func (discardConn) Close() error                     { return nil }

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

// BenchmarkWrite measures a small Write to a loopback connection whose
// client reads everything: conn=tcp as accepted, conn=listener through a
// ConnListener with the default write timeout (an atomic load and a
// compare per Write, a SetWriteDeadline about once a second).
//
// go test ./transport -run='^$' -bench=BenchmarkWrite -count=10
func BenchmarkWrite(b *testing.B) {
	c, client := loopbackPair(b)
	go io.Copy(io.Discard, client) // owner: the benchmark; exit: client closed at Cleanup
	msg := []byte("event: message\ndata: {}\n\n")
	for _, conn := range []struct {
		name string
		c    net.Conn
	}{{"tcp", c.Conn}, {"listener", c}} {
		b.Run("conn="+conn.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := conn.c.Write(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestListenerWriteTimeoutSlowReader: a client that reads a large body
// steadily, if slowly, is not cut off although the whole body takes longer
// than the write timeout: a Write goes to the connection in pieces
// (writePiece), each under a deadline moved as it goes, so the timeout
// bounds a pause, not the response. (A blocked write wakes when the
// kernel has about half the socket's send buffer free, so a reader must
// drain that much per timeout: 2 s here.)
func TestListenerWriteTimeoutSlowReader(t *testing.T) {
	const timeout = 2 * time.Second
	const size = 10 << 20
	l := serveBody(t, timeout, size, nil)
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	// A slow reader: at most 64 KiB, then a pause of 20 ms: about 3 s for
	// the whole body, longer than the timeout.
	var got int
	buf := make([]byte, 64<<10)
	_ = client.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		n, err := client.Read(buf)
		got += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", got, err)
		}
		time.Sleep(20 * time.Millisecond) // the client is slow on purpose, not waiting for something
	}
	if got < size {
		t.Fatalf("read %d bytes, want the whole %d-byte body: a steady reader was cut off", got, size)
	}
}

// serveBody serves a body of size bytes on a ConnListener with the write
// timeout, calling started (if not nil) as each request is handled; the
// server is shut down when t ends.
func serveBody(t *testing.T, timeout time.Duration, size int, started func()) *ConnListener {
	t.Helper()
	body := bytes.Repeat([]byte("x"), size)
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := NewListener(tcp, &ListenerOptions{WriteTimeout: timeout, Logger: quietLogger})
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if started != nil {
			started()
		}
		ctx.SetBody(body)
	}, Logger: nopLogger{}}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }() // owner: the test; exit: Shutdown in Cleanup
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil {
			t.Error(err)
		}
		<-served
	})
	return l
}
