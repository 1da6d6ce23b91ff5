package gosdk

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/internal/oauthtest"
	"github.com/mcpfiber/mcpfiber/transport"
)

type bearerRT struct{ token string }

func (b bearerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// TestTokenInfo: an SDK-built server behind the transport with
// authorization on sees the verified token in RequestExtra.TokenInfo,
// as behind the SDK's own auth.RequireBearerToken.
func TestTokenInfo(t *testing.T) {
	is := oauthtest.Start(t, false)
	const resource = "https://mcp.example.com/mcp"
	s := sdk.NewServer(&sdk.Implementation{Name: "sdk-server", Version: "1"}, &sdk.ServerOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	sdk.AddTool(s, &sdk.Tool{Name: "whoami"}, func(_ context.Context, req *sdk.CallToolRequest, _ struct{}) (*sdk.CallToolResult, any, error) {
		ti := req.Extra.TokenInfo
		if ti == nil {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "no token"}}}, nil, nil
		}
		text := ti.UserID + "|" + strings.Join(ti.Scopes, ",") + "|" + ti.Extra["sub"].(string)
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text}}}, nil, nil
	})
	jv, err := auth.NewJWT(auth.JWTOptions{Issuer: is.URL, Audience: resource})
	if err != nil {
		t.Fatal(err)
	}
	v := auth.NewCache(jv, nil)
	defer v.Close()
	b := New(s, nil)
	h := transport.NewHandler(b, &transport.Options{KeepAlive: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth: &transport.Auth{Verifier: v, Resource: resource, AuthorizationServers: []string{is.URL}}})
	app := transport.NewApp(h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }() // owner: the test; exit: the shutdown below
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		appDone := make(chan error, 1)
		go func() { appDone <- app.ShutdownWithContext(ctx) }() // owner: the test; exit: shutdown done
		h.Shutdown(ctx, 0)
		<-appDone
		<-served
		if err := b.Close(ctx); err != nil {
			t.Errorf("Backend.Close: %v", err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := sdk.NewClient(&sdk.Implementation{Name: "gosdk-test", Version: "1"}, nil)
	tok := is.Mint("RS256", is.Claims("alice", resource, "read"))
	cs, err := c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: "http://" + ln.Addr().String() + "/mcp", MaxRetries: -1,
		HTTPClient: &http.Client{Transport: bearerRT{tok}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := textOf(res), is.URL+" alice|read|alice"; got != want {
		t.Errorf("TokenInfo seen by the tool = %q, want %q", got, want)
	}
}
