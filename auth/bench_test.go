package auth_test

import (
	"context"
	"testing"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/internal/oauthtest"
)

// BenchmarkVerify measures a JWT's verification: cache=miss is the first
// verification of a token (parse, signature, claims; the key set is
// already fetched), cache=hit the same token served by a Cache.
//
// go test ./auth -run='^$' -bench=BenchmarkVerify -benchmem -count=10
func BenchmarkVerify(b *testing.B) {
	is := oauthtest.Start(b, false)
	jv, err := auth.NewJWT(auth.JWTOptions{Issuer: is.URL, Audience: resource})
	if err != nil {
		b.Fatal(err)
	}
	defer jv.Close()
	ctx := context.Background()
	for _, alg := range []string{"RS256", "ES256"} {
		tok := is.Mint(alg, is.Claims("alice", resource, "mcp", "read"))
		if _, err := jv.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
		b.Run("alg="+alg+"/cache=miss", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := jv.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("alg="+alg+"/cache=hit", func(b *testing.B) {
			c := auth.NewCache(jv, nil)
			c.Verify(ctx, tok)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
