package transport

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// dialSmallWindow connects to addr with a 4 KiB receive buffer, so that
// what the server writes fills the kernel's buffers soon when the client
// does not read.
func dialSmallWindow(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSSEWriteTimeout: a client that asks for an SSE answer and then reads
// nothing is cut off once the server's writes have been blocked for
// Options.WriteTimeout: the stream's writer exits and its buffers are
// freed, instead of being held for as long as the client likes (issue
// #14, item 3). The client gets less than the whole answer and no final
// chunk.
func TestSSEWriteTimeout(t *testing.T) {
	obs := &streamCounter{closed: make(chan struct{}, 1)}
	ts := newTestServer(t, &Options{WriteTimeout: 300 * time.Millisecond, MaxBodyBytes: 32 << 20, Observer: obs})
	sid := ts.initialize(t, mcp.Version20251125)
	msg := strings.Repeat("a", 12<<20) // well past the socket buffers on both sides
	body := callBody(7, "echo", `{"message":"`+msg+`"}`)
	addr := strings.TrimPrefix(strings.TrimSuffix(ts.url, ts.h.Options().Path), "http://")

	c := dialSmallWindow(t, addr)
	req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n"+
		"Mcp-Session-Id: %s\r\nMcp-Protocol-Version: %s\r\nContent-Length: %d\r\n\r\n%s",
		ts.h.Options().Path, addr, sid, mcp.Version20251125, len(body), body)
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	// The answer's writer starts, blocks on the unread connection and must
	// give up after the write timeout.
	// The bound is generous: under -race on a loaded machine, decoding and
	// validating the 12 MiB call takes seconds before the writer starts.
	select {
	case <-obs.closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the SSE writer of a client that reads nothing is still running after 30s (write timeout 300ms)")
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil && !isReset(err) {
		t.Fatalf("reading what the server sent: %v", err)
	}
	if !bytes.HasPrefix(got, []byte("HTTP/1.1 200")) {
		t.Fatalf("answer starts %.40q, want a 200", got)
	}
	if len(got) >= len(msg) || bytes.HasSuffix(got, []byte("\r\n0\r\n\r\n")) {
		t.Errorf("the client got %d bytes and the final chunk: the server wrote the whole answer to a client that did not read", len(got))
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}

// streamCounter is an Observer that signals each SSE stream's end.
type streamCounter struct {
	NopObserver
	closed chan struct{}
}

func (o *streamCounter) StreamClosed(bool) {
	select {
	case o.closed <- struct{}{}:
	default:
	}
}
