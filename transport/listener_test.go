package transport

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
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
