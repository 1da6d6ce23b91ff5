package conformance_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/internal/oauthtest"
	"github.com/mcpfiber/mcpfiber/server"
)

// bearerTransport adds an Authorization header to every request: a
// client holding a pre-obtained access token.
type bearerTransport struct {
	token string
	next  http.RoundTripper
}

func (b *bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// TestInteropGoSDKAuth: the official Go SDK client, with a bearer token
// from a real issuer on loopback, completes a session at 2025-11-25 and
// stateless requests at 2026-07-28 against the binary's server with
// --auth-issuer; without a token it cannot connect.
func TestInteropGoSDKAuth(t *testing.T) {
	is := oauthtest.Start(t, false)
	const resource = "https://mcp.example.com/mcp"
	srv := server.New(server.Config{
		Addr:        "127.0.0.1:0",
		Catalog:     "conformance",
		KeepAlive:   -1,
		DrainWindow: time.Millisecond,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth:        auth.Config{Issuer: is.URL, Resource: resource, Scopes: []string{"mcp"}},
	})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }() // owner: the test; exit: Shutdown in Cleanup
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := sdk.NewClient(&sdk.Implementation{Name: "mcpfiber-interop-auth", Version: "0"}, nil)
	tok := is.Mint("ES256", is.Claims("alice", resource, "mcp"))
	for _, version := range []string{"", "2025-11-25"} {
		hc := &http.Client{Transport: &bearerTransport{token: tok, next: base}}
		cs, err := client.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: srv.URL(), HTTPClient: hc},
			&sdk.ClientSessionOptions{ProtocolVersion: version})
		if err != nil {
			t.Fatalf("Connect(%q) with a token: %v", version, err)
		}
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "test_simple_text"})
		if err != nil || res.IsError || len(res.Content) == 0 {
			t.Fatalf("%q: CallTool: %v %v", version, res, err)
		}
		if version != "" && srv.Handler().Sessions().Len() != 1 {
			t.Errorf("%q: %d sessions, want 1", version, srv.Handler().Sessions().Len())
		}
		if err := cs.Close(); err != nil {
			t.Errorf("%q: Close: %v", version, err)
		}
	}

	_, err := client.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: srv.URL(), HTTPClient: &http.Client{Transport: base}},
		&sdk.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "unauthorized") && !strings.Contains(err.Error(), "401") {
		t.Errorf("Connect without a token = %v, want a 401", err)
	}
}
