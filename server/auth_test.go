package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/internal/oauthtest"
	"github.com/mcpfiber/mcpfiber/server"
)

// TestAuth: with Config.Auth the binary's server refuses the MCP endpoint
// without a token (ahead of the router too), serves it with one, publishes
// the Protected Resource Metadata at both well-known paths, and leaves
// /healthz open.
func TestAuth(t *testing.T) {
	is := oauthtest.Start(t, false)
	const resource = "https://mcp.example.com/mcp"
	srv, _ := startServer(t, server.Config{Auth: auth.Config{Issuer: is.URL, Resource: resource, Scopes: []string{"mcp"}}})
	hc := newHTTPClient(t)
	base := strings.TrimSuffix(srv.URL(), "/mcp")
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	post := func(tok string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL(), strings.NewReader(init))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	want := `Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp"`
	if r := post(""); r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") != want {
		t.Errorf("POST without a token: %d %q, want 401 %q", r.StatusCode, r.Header.Get("WWW-Authenticate"), want)
	}
	if r := post(is.Mint("RS256", is.Claims("alice", resource, "mcp"))); r.StatusCode != 200 || r.Header.Get("Mcp-Session-Id") == "" {
		t.Errorf("initialize with a token: %d", r.StatusCode)
	}
	for _, p := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		resp, err := hc.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		var md auth.ResourceMetadata
		err = json.NewDecoder(resp.Body).Decode(&md)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || md.Resource != resource || len(md.AuthorizationServers) != 1 || md.AuthorizationServers[0] != is.URL {
			t.Errorf("GET %s: %d %+v %v", p, resp.StatusCode, md, err)
		}
	}
	resp, err := hc.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/healthz: %d, want 200 without a token", resp.StatusCode)
	}
}
