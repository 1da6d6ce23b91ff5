//go:build !race

package transport

import (
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/internal/oauthtest"
)

// TestAuthAllocs: with Options.Auth, the refusals (no token, not a
// Bearer token, token in the query) and a request with a cached token
// that names an unknown session (authenticate, then the 404 fast path)
// do not allocate.
func TestAuthAllocs(t *testing.T) {
	is := oauthtest.Start(t, false)
	jv, err := auth.NewJWT(auth.JWTOptions{Issuer: is.URL, Audience: testResource})
	if err != nil {
		t.Fatal(err)
	}
	v := auth.NewCache(jv, nil)
	defer v.Close()
	_, app := newInProcess(t, &Options{Auth: &Auth{Verifier: v, Resource: testResource, AuthorizationServers: []string{is.URL}, Scopes: []string{"mcp"}}})
	tok := is.Mint("RS256", is.Claims("alice", testResource, "mcp"))
	post := []string{"Content-Type", ctJSONValue, "Accept", acceptBoth, "Mcp-Session-Id", unknownSID}
	for _, c := range []struct {
		name   string
		method string
		uri    string
		hdr    []string
		status int
	}{
		{"POST/no-token", fasthttp.MethodPost, "", post, 401},
		{"GET/no-token", fasthttp.MethodGet, "", []string{"Accept", ctSSEValue, "Mcp-Session-Id", unknownSID}, 401},
		{"POST/basic", fasthttp.MethodPost, "", append([]string{"Authorization", "Basic YTpi"}, post...), 401},
		{"POST/query", fasthttp.MethodPost, "/mcp?access_token=abc", post, 400},
		{"POST/cached-token-404", fasthttp.MethodPost, "", append([]string{"Authorization", "Bearer " + tok}, post...), 404},
		{"DELETE/cached-token-404", fasthttp.MethodDelete, "", []string{"Authorization", "Bearer " + tok, "Mcp-Session-Id", unknownSID}, 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body []byte
			if c.method == fasthttp.MethodPost {
				body = []byte(pingBody)
			}
			ctx := newRequestCtx(c.method, body, c.hdr...)
			if c.uri != "" {
				ctx.Request.SetRequestURI(c.uri)
			}
			app(ctx) // warm up: verifies and caches the token
			if got := ctx.Response.StatusCode(); got != c.status {
				t.Fatalf("status %d, want %d (body %s)", got, c.status, ctx.Response.Body())
			}
			if n := testing.AllocsPerRun(100, func() { app(ctx) }); n != 0 {
				t.Fatalf("got %v allocs/op, want 0", n)
			}
		})
	}
}
