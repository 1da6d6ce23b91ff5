package transport

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// openRawGET opens sid's GET stream on a raw connection and reads the
// response head (and, at 2025-11-25, the priming event), so that the
// stream is running when it returns.
func openRawGET(t testing.TB, ts *testServer, sid, version string) net.Conn {
	t.Helper()
	addr := strings.TrimPrefix(strings.TrimSuffix(ts.url, ts.h.Options().Path), "http://")
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nMcp-Session-Id: %s\r\nMcp-Protocol-Version: %s\r\n\r\n",
		ts.h.Options().Path, addr, sid, version)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 200") {
		t.Fatalf("GET stream: %q, %v", status, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("GET stream head: %v", err)
		}
		if line == "\r\n" {
			break
		}
	}
	if mcp.AtLeast(version, mcp.Version20251125) {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("GET stream priming event: %v", err)
			}
			if line == "\n" {
				break
			}
		}
	}
	return c
}

// TestGETReconnectAfterHangup: a client that closes its GET stream and
// opens another at once, without Last-Event-ID, gets the new stream (200)
// within 100 ms at every revision, not 409 until a keep-alive write
// happens to fail (issue #15, item 1). Keep-alives are off here, so only
// the new GET can notice the hang-up.
func TestGETReconnectAfterHangup(t *testing.T) {
	ts := newTestServer(t, &Options{KeepAlive: -1})
	for _, v := range []string{mcp.Version20250326, mcp.Version20250618, mcp.Version20251125} {
		t.Run(v, func(t *testing.T) {
			sid := ts.initialize(t, v)
			c := openRawGET(t, ts, sid, v)
			c.Close()
			start := time.Now()
			resp := ts.open(t, http.MethodGet, sid, "", "Mcp-Protocol-Version", v)
			took := time.Since(start)
			if resp.StatusCode != http.StatusOK {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("GET after the first stream's client hung up: %d %s", resp.StatusCode, b)
			}
			if took > 100*time.Millisecond {
				t.Errorf("the new GET stream took %v, want it within 100ms", took)
			}
			// The live stream is not taken for a dead one: a third GET
			// still gets 409.
			statusCase{name: "GET beside a live stream", method: "GET", sid: sid, hdr: []string{"Mcp-Protocol-Version", v}, status: 409, code: jsonrpc.CodeServerError}.check(t, ts)
		})
	}
}

// gaugeObserver keeps the number of open GET streams.
type gaugeObserver struct {
	NopObserver
	open atomic.Int64
}

func (o *gaugeObserver) StreamOpened(standalone bool) {
	if standalone {
		o.open.Add(1)
	}
}

func (o *gaugeObserver) StreamClosed(standalone bool) {
	if standalone {
		o.open.Add(-1)
	}
}

// TestDroppedGETStreamsReleased: 1 000 GET streams whose clients all hang
// up at once are all closed within one keep-alive interval (the gauge
// back to 0), although nothing is written to them (issue #15, item 1).
func TestDroppedGETStreamsReleased(t *testing.T) {
	const n = 1000
	const interval = 300 * time.Millisecond
	obs := &gaugeObserver{}
	ts := newTestServer(t, &Options{KeepAlive: interval, Observer: obs})
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	for i := range conns {
		sid := ts.initialize(t, mcp.Version20250618) // no priming event
		wg.Add(1)
		go func() { // owner: the test; exit: the head is read
			defer wg.Done()
			conns[i] = openRawGET(t, ts, sid, mcp.Version20250618)
		}()
		if i%50 == 49 {
			wg.Wait() // a few at a time: the listen backlog
		}
	}
	wg.Wait()
	if got := obs.open.Load(); got != n {
		t.Fatalf("%d GET streams open, want %d", got, n)
	}
	for _, c := range conns {
		c.Close()
	}
	start := time.Now()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if got := obs.open.Load(); got != 0 {
			return fmt.Errorf("%d GET streams still open", got)
		}
		return nil
	})
	// Within one interval, with 100 ms for the tick's sweep over 1 000
	// streams on a loaded machine. (Without the hang-up probe the second
	// keep-alive write after the hang-up fails, about 1.6 intervals in.)
	took := time.Since(start)
	t.Logf("released %d streams in %v (keep-alive interval %v)", n, took, interval)
	if took > interval+100*time.Millisecond {
		t.Errorf("the dropped streams were released after %v, want within one keep-alive interval (%v)", took, interval)
	}
}
