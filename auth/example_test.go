package auth_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/transport"
)

// A custom Verifier (here: fixed API keys) plugged into the transport,
// with a tool that needs a scope of its own and reads the principal.
func Example_customVerifier() {
	keys := map[string]*mcp.Principal{
		"key-alice": {Issuer: "https://keys.example.com", Subject: "alice", Scopes: []string{"mcp", "admin"}},
		"key-bob":   {Issuer: "https://keys.example.com", Subject: "bob", Scopes: []string{"mcp"}},
	}
	v := auth.VerifierFunc(func(_ context.Context, token string) (*mcp.Principal, error) {
		if p := keys[token]; p != nil { // a map lookup with a string key does not retain token
			return p, nil
		}
		return nil, fmt.Errorf("%w: unknown key", auth.ErrInvalidToken)
	})

	srv := mcp.NewServer(mcp.Implementation{Name: "example", Version: "1"}, nil)
	srv.AddTool(&mcp.Tool{Name: "purge", InputSchema: []byte(`{"type":"object"}`), Scopes: []string{"admin"}},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			who := req.Principal().Subject // bob never gets here: 403 first
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("purged by " + who)}}, nil
		})
	h := transport.NewHandler(srv, &transport.Options{Auth: &transport.Auth{
		Verifier:             v,
		Resource:             "https://mcp.example.com/mcp",
		AuthorizationServers: []string{"https://keys.example.com"},
		Scopes:               []string{"mcp"},
	}})
	_ = transport.NewApp(h) // serves /mcp and /.well-known/oauth-protected-resource[/mcp]
	defer h.Shutdown(context.Background(), 0)

	fmt.Println(strings.Join(srv.RequiredScopes("tools/call", []byte(`{"name":"purge"}`)), " "))
	// Output: admin
}
