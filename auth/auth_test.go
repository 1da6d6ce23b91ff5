package auth_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/internal/oauthtest"
	"github.com/mcpfiber/mcpfiber/mcp"
)

const resource = "https://mcp.example.com/mcp"

func newJWT(t *testing.T, is *oauthtest.Issuer, opts auth.JWTOptions) *auth.JWT {
	t.Helper()
	opts.Issuer, opts.Audience = is.URL, resource
	v, err := auth.NewJWT(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// TestJWTRefusals verifies tokens minted by a real issuer on loopback:
// every way a token can be wrong is ErrInvalidToken.
func TestJWTRefusals(t *testing.T) {
	is := oauthtest.Start(t, false)
	v := newJWT(t, is, auth.JWTOptions{ClockSkew: time.Second})
	now := time.Now()
	with := func(k string, val any) oauthtest.Claims {
		c := is.Claims("alice", resource, "read")
		c[k] = val
		return c
	}
	without := func(k string) oauthtest.Claims {
		c := is.Claims("alice", resource, "read")
		delete(c, k)
		return c
	}
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"RS256", is.Mint("RS256", is.Claims("alice", resource, "read")), true},
		{"ES256", is.Mint("ES256", is.Claims("alice", resource, "read")), true},
		{"aud array", is.Mint("RS256", with("aud", []string{"https://other.example", resource})), true},
		{"aud trailing slash", is.Mint("RS256", with("aud", resource+"/")), true},
		{"within skew", is.Mint("ES256", with("nbf", now.Add(500*time.Millisecond).Unix())), true},
		{"malformed", "not.a.jwt", false},
		{"garbage", "abc", false},
		{"expired", is.Mint("RS256", with("exp", now.Add(-time.Minute).Unix())), false},
		{"no exp", is.Mint("RS256", without("exp")), false},
		{"nbf in future", is.Mint("RS256", with("nbf", now.Add(time.Minute).Unix())), false},
		{"bad signature RS256", is.MintForeign("RS256", is.Claims("alice", resource)), false},
		{"bad signature ES256", is.MintForeign("ES256", is.Claims("alice", resource)), false},
		{"wrong iss", is.Mint("RS256", with("iss", "https://evil.example")), false},
		{"wrong aud", is.Mint("RS256", with("aud", "https://other.example/mcp")), false},
		{"no aud", is.Mint("RS256", without("aud")), false},
		{"no sub", is.Mint("RS256", without("sub")), false},
	}
	for _, tt := range tests {
		p, err := v.Verify(context.Background(), tt.token)
		if tt.ok {
			if err != nil {
				t.Errorf("%s: Verify = %v, want a principal", tt.name, err)
				continue
			}
			if p.Subject != "alice" || p.Issuer != is.URL || !slices.Equal(p.Scopes, []string{"read"}) || p.Expiry.IsZero() || len(p.Claims) == 0 {
				t.Errorf("%s: Verify = %+v", tt.name, p)
			}
			continue
		}
		if !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s: Verify = %v, %v; want ErrInvalidToken", tt.name, p, err)
		}
	}
}

// TestJWTRotation: a token signed with a key the verifier has not seen
// makes it refetch the key set once; a second unknown kid within the
// refetch interval is refused without a fetch.
func TestJWTRotation(t *testing.T) {
	is := oauthtest.Start(t, false)
	v := newJWT(t, is, auth.JWTOptions{RefetchInterval: time.Hour})
	ctx := context.Background()
	if _, err := v.Verify(ctx, is.Mint("RS256", is.Claims("alice", resource))); err != nil {
		t.Fatal(err)
	}
	before := is.JWKSFetches()
	kid := is.Rotate("ES256")
	if _, err := v.Verify(ctx, is.MintWith(kid, is.Claims("alice", resource))); err != nil {
		t.Fatalf("token with a new kid: %v", err)
	}
	if got := is.JWKSFetches(); got != before+1 {
		t.Errorf("JWKS fetches after rotation = %d, want %d", got, before+1)
	}
	kid2 := is.Rotate("RS256")
	if _, err := v.Verify(ctx, is.MintWith(kid2, is.Claims("alice", resource))); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("second unknown kid within the refetch interval: %v, want ErrInvalidToken", err)
	}
}

// TestDiscoverOpenIDFallback: an issuer that serves only OpenID Connect
// Discovery still gives its key set.
func TestDiscoverOpenIDFallback(t *testing.T) {
	is := oauthtest.Start(t, true)
	md, err := auth.Discover(context.Background(), nil, is.URL)
	if err != nil || md.JWKSURI != is.URL+"/jwks" {
		t.Fatalf("Discover = %+v, %v", md, err)
	}
	v := newJWT(t, is, auth.JWTOptions{})
	if _, err := v.Verify(context.Background(), is.Mint("ES256", is.Claims("bob", resource))); err != nil {
		t.Fatal(err)
	}
}

// TestUnreachable: an issuer that cannot be reached is not an invalid
// token (the transport answers 503, not 401).
func TestUnreachable(t *testing.T) {
	v, err := auth.NewJWT(auth.JWTOptions{Issuer: "http://127.0.0.1:1", Audience: resource})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	_, err = v.Verify(context.Background(), "a.b.c")
	if err == nil || errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("Verify with the issuer down = %v, want an error that is not ErrInvalidToken", err)
	}
}

func TestCheckIssuerURL(t *testing.T) {
	for _, u := range []string{"https://as.example.com", "http://127.0.0.1:9000", "http://localhost/x", "http://[::1]:8080"} {
		if err := auth.CheckIssuerURL(u); err != nil {
			t.Errorf("CheckIssuerURL(%q) = %v, want nil", u, err)
		}
	}
	for _, u := range []string{"http://as.example.com", "http://10.0.0.1", "ftp://x", "/relative", ""} {
		if err := auth.CheckIssuerURL(u); err == nil {
			t.Errorf("CheckIssuerURL(%q) = nil, want an error", u)
		}
	}
}

func TestIntrospection(t *testing.T) {
	is := oauthtest.Start(t, false)
	opts := auth.IntrospectionOptions{URL: is.URL + "/introspect", ClientID: is.ClientID, ClientSecret: is.ClientSecret, Issuer: is.URL, Audience: resource}
	v, err := auth.NewIntrospection(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good := is.Opaque(is.Claims("carol", resource, "read", "write"))
	p, err := v.Verify(ctx, good)
	if err != nil || p.Subject != "carol" || !p.HasScopes([]string{"read", "write"}) || len(p.Claims) == 0 {
		t.Fatalf("Verify(active) = %+v, %v", p, err)
	}
	other := is.Claims("carol", "https://other.example/mcp")
	expired := is.Claims("carol", resource)
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	for name, tok := range map[string]string{
		"unknown":      "op_nope",
		"other aud":    is.Opaque(other),
		"expired":      is.Opaque(expired),
		"wrong issuer": is.Opaque(oauthtest.Claims{"sub": "x", "iss": "https://evil.example"}),
	} {
		if _, err := v.Verify(ctx, tok); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s: Verify = %v, want ErrInvalidToken", name, err)
		}
	}
	opts.ClientSecret = "wrong"
	bad, _ := auth.NewIntrospection(opts)
	if _, err := bad.Verify(ctx, good); err == nil || errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("Verify with bad client credentials = %v, want a non-token error", err)
	}
}

// TestConfigChain: the flags' verifier takes JWTs by signature and opaque
// tokens by introspection, and caches both.
func TestConfigChain(t *testing.T) {
	is := oauthtest.Start(t, false)
	cfg := auth.Config{Issuer: is.URL, Resource: resource, IntrospectionURL: is.URL + "/introspect", ClientID: is.ClientID, ClientSecret: is.ClientSecret}
	v, err := cfg.NewVerifier()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx := context.Background()
	op := is.Opaque(is.Claims("dave", resource))
	for range 3 {
		if p, err := v.Verify(ctx, op); err != nil || p.Subject != "dave" {
			t.Fatalf("opaque: %+v, %v", p, err)
		}
		if p, err := v.Verify(ctx, is.Mint("RS256", is.Claims("erin", resource))); err != nil || p.Subject != "erin" {
			t.Fatalf("JWT: %+v, %v", p, err)
		}
	}
	if n := is.Introspections(); n != 1 {
		t.Errorf("introspections for one opaque token used 3 times = %d, want 1 (cached)", n)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  auth.Config
		want string // in the error; "" for valid
	}{
		{auth.Config{}, ""},
		{auth.Config{Issuer: "https://as.example", Resource: resource}, ""},
		{auth.Config{Issuer: "https://as.example"}, "--auth-resource is required"},
		{auth.Config{Resource: resource}, "need --auth-issuer"},
		{auth.Config{Issuer: "http://as.example", Resource: resource}, "--auth-issuer"},
		{auth.Config{Issuer: "https://as.example", Resource: "mcp"}, "--auth-resource"},
		{auth.Config{Issuer: "https://as.example", Resource: resource, ClientID: "x"}, "--auth-introspection-url"},
		{auth.Config{Issuer: "https://as.example", Resource: resource, Scopes: []string{"a b"}}, "--auth-scopes"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

// countingVerifier counts verifications and returns a principal that
// expires at exp.
type countingVerifier struct {
	n   int
	exp time.Time
}

func (c *countingVerifier) Verify(_ context.Context, token string) (*mcp.Principal, error) {
	c.n++
	if token == "bad" {
		return nil, auth.ErrInvalidToken
	}
	return &mcp.Principal{Subject: token, Issuer: "i", Expiry: c.exp}, nil
}

func TestCache(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	inner := &countingVerifier{exp: now.Add(time.Minute)}
	c := auth.NewCache(inner, &auth.CacheOptions{TTL: 10 * time.Minute, Size: 4, Now: func() time.Time { return now }})
	ctx := context.Background()
	for range 3 {
		if p, err := c.Verify(ctx, "tok"); err != nil || p.Subject != "tok" {
			t.Fatal(p, err)
		}
	}
	if inner.n != 1 {
		t.Errorf("verifications of one token = %d, want 1", inner.n)
	}
	now = now.Add(61 * time.Second) // past the token's expiry, before the TTL
	c.Verify(ctx, "tok")
	if inner.n != 2 {
		t.Errorf("verifications after expiry = %d, want 2", inner.n)
	}
	c.Verify(ctx, "bad")
	c.Verify(ctx, "bad")
	if inner.n != 4 {
		t.Errorf("failures are cached: %d verifications, want 4", inner.n)
	}
	for i := range 20 {
		c.Verify(ctx, strings.Repeat("x", i+1))
	}
	if n := c.Len(); n > 5 {
		t.Errorf("Len = %d past Size 4", n)
	}
}

func TestCacheHitAllocs(t *testing.T) {
	c := auth.NewCache(&countingVerifier{}, nil)
	ctx := context.Background()
	tok := strings.Repeat("t", 800)
	c.Verify(ctx, tok)
	if n := testing.AllocsPerRun(100, func() { c.Verify(ctx, tok) }); n != 0 {
		t.Errorf("cache hit: %v allocs/op, want 0", n)
	}
}

func TestParseBearer(t *testing.T) {
	ok := map[string]string{
		"Bearer abc":          "abc",
		"bearer abc.def-_~+/": "abc.def-_~+/",
		"BEARER   x==":        "x==",
		" Bearer tok ":        "tok",
	}
	for in, want := range ok {
		if got, k := auth.ParseBearer([]byte(in)); !k || string(got) != want {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q, true", in, got, k, want)
		}
	}
	for _, in := range []string{"", "Bearer", "Bearer ", "Basic abc", "Bearerabc", "Bearer a b", "Bearer =abc", "Bearer a=b", "Bearer a\"b", "Token abc"} {
		if got, k := auth.ParseBearer([]byte(in)); k {
			t.Errorf("ParseBearer(%q) = %q, true; want false", in, got)
		}
	}
	h := []byte("Bearer " + strings.Repeat("a", 1000))
	if n := testing.AllocsPerRun(100, func() { auth.ParseBearer(h) }); n != 0 {
		t.Errorf("ParseBearer: %v allocs/op, want 0", n)
	}
}

func TestAppendChallenge(t *testing.T) {
	tests := []struct {
		md, code string
		scopes   []string
		want     string
	}{
		{"https://x/.well-known/oauth-protected-resource/mcp", "", nil, `Bearer resource_metadata="https://x/.well-known/oauth-protected-resource/mcp"`},
		{"https://x/m", "invalid_token", nil, `Bearer resource_metadata="https://x/m", error="invalid_token"`},
		{"https://x/m", "insufficient_scope", []string{"a", "b", "a"}, `Bearer resource_metadata="https://x/m", error="insufficient_scope", scope="a b"`},
		{"", "", []string{`q"\`}, `Bearer scope="q\"\\"`},
	}
	for _, tt := range tests {
		if got := string(auth.AppendChallenge(nil, tt.md, tt.code, tt.scopes)); got != tt.want {
			t.Errorf("AppendChallenge(%q, %q, %q) = %s, want %s", tt.md, tt.code, tt.scopes, got, tt.want)
		}
	}
}

func TestMetadataURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://mcp.example.com/mcp":  "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
		"https://mcp.example.com":      "https://mcp.example.com/.well-known/oauth-protected-resource",
		"http://127.0.0.1:8080/a/b/":   "http://127.0.0.1:8080/.well-known/oauth-protected-resource/a/b",
		"https://mcp.example.com:8443": "https://mcp.example.com:8443/.well-known/oauth-protected-resource",
	} {
		if got, _, err := auth.MetadataURL(in); err != nil || got != want {
			t.Errorf("MetadataURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
