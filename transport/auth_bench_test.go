package transport

import (
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/internal/oauthtest"
)

// BenchmarkAuth compares requests with authorization off and on (a JWT
// served from the cache) in one run: req=call is a tools/call of echo in
// a live session, req=miss a POST naming an unknown session (404);
// req=unauthorized is the 401 for a request without a token.
//
// go test ./transport -run='^$' -bench=BenchmarkAuth -benchmem -count=10
func BenchmarkAuth(b *testing.B) {
	is := oauthtest.Start(b, false)
	tok := is.Mint("RS256", is.Claims("alice", testResource, "mcp"))
	newOpts := func(on bool) *Options {
		if !on {
			return nil
		}
		jv, err := auth.NewJWT(auth.JWTOptions{Issuer: is.URL, Audience: testResource})
		if err != nil {
			b.Fatal(err)
		}
		v := auth.NewCache(jv, nil)
		b.Cleanup(func() { v.Close() })
		return &Options{Auth: &Auth{Verifier: v, Resource: testResource, AuthorizationServers: []string{is.URL}, Scopes: []string{"mcp"}}}
	}
	for _, req := range []string{"call", "miss"} {
		for _, on := range []bool{false, true} {
			name := "req=" + req + "/auth=off"
			if on {
				name = "req=" + req + "/auth=on"
			}
			b.Run(name, func(b *testing.B) {
				_, app := newInProcess(b, newOpts(on))
				var authz []string
				if on {
					authz = []string{"Authorization", "Bearer " + tok}
				}
				if req == "miss" {
					ctx := newRequestCtx(fasthttp.MethodPost, []byte(pingBody), append([]string{"Content-Type", ctJSONValue, "Accept", acceptBoth, "Mcp-Session-Id", unknownSID}, authz...)...)
					b.ReportAllocs()
					for b.Loop() {
						app(ctx)
					}
					if got := ctx.Response.StatusCode(); got != fasthttp.StatusNotFound {
						b.Fatalf("status %d, want 404", got)
					}
					return
				}
				ictx := newRequestCtx(fasthttp.MethodPost, []byte(initBody("2025-11-25")), append([]string{"Content-Type", ctJSONValue, "Accept", acceptBoth}, authz...)...)
				app(ictx)
				sid := string(ictx.Response.Header.Peek("Mcp-Session-Id"))
				if sid == "" {
					b.Fatalf("initialize: %d %s", ictx.Response.StatusCode(), ictx.Response.Body())
				}
				ctx := newRequestCtx(fasthttp.MethodPost, []byte(callBody(7, "echo", `{"message":"hello"}`)),
					append([]string{"Content-Type", ctJSONValue, "Accept", acceptBoth, "Mcp-Session-Id", sid}, authz...)...)
				benchmarkPOST(b, app, ctx, "application/json")
			})
		}
	}
	b.Run("req=unauthorized", func(b *testing.B) {
		_, app := newInProcess(b, newOpts(true))
		ctx := newRequestCtx(fasthttp.MethodPost, []byte(pingBody), "Content-Type", ctJSONValue, "Accept", acceptBoth)
		b.ReportAllocs()
		for b.Loop() {
			app(ctx)
		}
		if got := ctx.Response.StatusCode(); got != fasthttp.StatusUnauthorized {
			b.Fatalf("status %d, want 401", got)
		}
	})
}
