package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/redisstore"
	"github.com/mcpfiber/mcpfiber/server"
)

// TestLostGETClaim (issue #11): a node that another node found gone while
// it was alive (redisstore NodeGone: its subscription was reconnecting)
// loses its GET stream claim to it. Its next renewal leaves the claim to
// the other node and closes the stream it had open; broadcasts no longer
// go to it.
func TestLostGETClaim(t *testing.T) {
	rdb := testutil.StartRedis(t)
	var stores []*redisstore.Store
	var urls []string
	for range 2 {
		st, err := redisstore.New(context.Background(), rdb.URL(), &redisstore.Options{PingInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		srv, _ := startServer(t, server.Config{SessionStore: st, Catalog: "conformance"})
		stores, urls = append(stores, st), append(urls, srv.URL())
	}
	hc := newHTTPClient(t)
	post := func(url, sid, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
			req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Mcp-Session-Id")
	}
	code, sid := post(urls[0], "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if code != http.StatusOK || sid == "" {
		t.Fatalf("initialize: %d", code)
	}
	if code, _ := post(urls[0], sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); code != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d", code)
	}
	req, _ := http.NewRequest(http.MethodGet, urls[0], nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET on node 0: %v %v", resp, err)
	}
	defer resp.Body.Close()
	r := newSSEReader(resp.Body)
	if ev, err := r.Next(); err != nil || !ev.HasID {
		t.Fatalf("priming event: %+v, %v", ev, err)
	}
	// A list change raised on node 1 reaches the stream on node 0.
	trigger := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"test_trigger_tool_change","arguments":{}}}`
	if code, _ := post(urls[1], sid, trigger); code != http.StatusOK {
		t.Fatalf("trigger on node 1: %d", code)
	}
	if ev, err := r.Next(); err != nil || !strings.Contains(ev.Data, "notifications/tools/list_changed") {
		t.Fatalf("GET stream on node 0: %+v, %v; want the list change", ev, err)
	}

	// Node 1 steals the claim as if it had found node 0 gone.
	bg := context.Background()
	if ok, err := stores[1].StealGET(bg, sid, stores[0].Node()); !ok || err != nil {
		t.Fatalf("StealGET = %v, %v", ok, err)
	}
	// Node 0's next renewal (50 ms) closes its stream; nothing more on it.
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			t.Fatalf("GET stream on node 0 after the steal: %v, want its end", err)
		}
		if ev.Data != "" {
			t.Fatalf("GET stream on node 0 after the steal: event %+v, want its end", ev)
		}
	}
	testutil.WaitFor(t, 5*time.Second, func() error { // not re-extended by node 0
		if n, err := stores[1].GETHolder(bg, sid); err != nil || n != stores[1].Node() {
			return errors.New("the claim is not node 1's")
		}
		return nil
	})
}
