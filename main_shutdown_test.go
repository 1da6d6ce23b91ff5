package main

import (
	"bufio"
	"context"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// TestBinaryShutdownLog runs the built binary with two sessions, one with
// a GET stream open, and stops it with SIGTERM: the last log line counts
// the sessions and streams drained and carries no err attribute (it used
// to end in err=<nil>).
func TestBinaryShutdownLog(t *testing.T) {
	bin := buildBinary(t)
	cmd, lines := testutil.Start(t, bin, "--addr", "127.0.0.1:0", "--drain-window", "100ms", "--metrics-addr", "off")
	var url string
	for url == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("mcpfiber exited before listening")
			}
			if m := regexp.MustCompile(`msg="mcpfiber listening" url=(\S+)`).FindStringSubmatch(l); m != nil {
				url = m[1]
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no listening line within 10s")
		}
	}

	// Two sessions, one with a GET stream open.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hc := &http.Client{}
	var sid string
	for range 2 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"probe","version":"0"}}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("initialize: %v", err)
		}
		resp.Body.Close()
		if sid = resp.Header.Get("Mcp-Session-Id"); resp.StatusCode != http.StatusOK || sid == "" {
			t.Fatalf("initialize: status %d, session %q", resp.StatusCode, sid)
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil { // the priming event: the stream is open
		t.Fatal(err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var all []string
	for l := range lines {
		all = append(all, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("mcpfiber exited with %v", err)
	}
	last := all[len(all)-1]
	if !strings.Contains(last, "msg=stopped") || !strings.Contains(last, " sessions_drained=2 streams_drained=1") || strings.Contains(last, "err=") {
		t.Errorf("last log line %q, want msg=stopped … sessions_drained=2 streams_drained=1 and no err\n%s", last, strings.Join(all, "\n"))
	}
}
