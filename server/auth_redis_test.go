package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/internal/oauthtest"
	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/redisstore"
	"github.com/mcpfiber/mcpfiber/server"
)

// TestAuthAcrossNodes: a session is bound to its principal on every node
// sharing a Redis (issue #12 with #10): the principal is part of the
// session record, so another node serves the session to the principal
// that started it and answers anyone else's valid token with 404, as for
// an unknown session.
func TestAuthAcrossNodes(t *testing.T) {
	is := oauthtest.Start(t, false)
	rdb := testutil.StartRedis(t)
	const resource = "https://mcp.example.com/mcp"
	var urls []string
	for range 2 {
		st, err := redisstore.New(context.Background(), rdb.URL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		srv, _ := startServer(t, server.Config{SessionStore: st, Auth: auth.Config{Issuer: is.URL, Resource: resource}})
		urls = append(urls, srv.URL())
	}
	hc := newHTTPClient(t)
	alice := is.Mint("RS256", is.Claims("alice", resource))
	mallory := is.Mint("RS256", is.Claims("mallory", resource))
	post := func(url, tok, sid, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
			req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Mcp-Session-Id")
	}
	code, sid := post(urls[0], alice, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if code != http.StatusOK || sid == "" {
		t.Fatalf("initialize on node 0 as alice: %d", code)
	}
	ping := `{"jsonrpc":"2.0","id":2,"method":"ping"}`
	if code, _ := post(urls[1], mallory, sid, ping); code != http.StatusNotFound {
		t.Errorf("alice's session on node 1 with mallory's token: %d, want 404", code)
	}
	if code, _ := post(urls[1], alice, sid, ping); code != http.StatusOK {
		t.Errorf("alice's session on node 1 with alice's token: %d, want 200", code)
	}
	if code, _ := post(urls[0], mallory, sid, ping); code != http.StatusNotFound {
		t.Errorf("alice's session on node 0 with mallory's token: %d, want 404", code)
	}
}
