// Package oauthtest runs a small OAuth 2.1 authorization server on
// loopback for tests: RFC 8414 metadata (or only OpenID Connect
// Discovery), a JSON Web Key Set with an RS256 and an ES256 key, tokens
// minted with golang-jwt, key rotation, and an RFC 7662 introspection
// endpoint for opaque tokens. It is a real peer of package auth, built on
// the same libraries, not a mock of it.
package oauthtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// An Issuer is a running authorization server.
type Issuer struct {
	// URL is the issuer identifier (http://127.0.0.1:port).
	URL string
	// ClientID and ClientSecret are what the introspection and token
	// endpoints accept.
	ClientID, ClientSecret string

	srv *httptest.Server

	mu     sync.Mutex
	keys   []*key            // published in the JWKS
	opaque map[string]Claims // introspection: token → claims
	noRFC  bool              // serve only /.well-known/openid-configuration
	jwksN  atomic.Int64      // JWKS fetches
	introN atomic.Int64      // introspection requests
	tokenN atomic.Int64      // tokens issued by the token endpoint
}

type key struct {
	kid  string
	alg  string
	priv crypto.Signer
}

// Claims are a token's claims.
type Claims = jwt.MapClaims

// Start starts an issuer; it stops at the end of the test. With
// openIDOnly, it serves OpenID Connect Discovery and no RFC 8414 metadata.
func Start(t testing.TB, openIDOnly bool) *Issuer {
	t.Helper()
	is := &Issuer{ClientID: "mcp-server", ClientSecret: "s3cret", opaque: map[string]Claims{}, noRFC: openIDOnly}
	is.addKey("RS256")
	is.addKey("ES256")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		if is.noRFC {
			http.NotFound(w, r)
			return
		}
		is.metadata(w)
	})
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) { is.metadata(w) })
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		is.jwksN.Add(1)
		writeJSON(w, is.jwks())
	})
	mux.HandleFunc("POST /introspect", is.introspect)
	mux.HandleFunc("POST /token", is.token)
	is.srv = httptest.NewServer(mux)
	is.URL = is.srv.URL
	t.Cleanup(is.srv.Close)
	return is
}

func (is *Issuer) metadata(w http.ResponseWriter) {
	writeJSON(w, map[string]any{
		"issuer":                                is.URL,
		"jwks_uri":                              is.URL + "/jwks",
		"introspection_endpoint":                is.URL + "/introspect",
		"token_endpoint":                        is.URL + "/token",
		"authorization_endpoint":                is.URL + "/authorize",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	})
}

var kidN atomic.Int64

// addKey adds a key for alg (RS256 or ES256) to the key set and returns
// its kid.
func (is *Issuer) addKey(alg string) string {
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		panic("oauthtest: unknown alg " + alg)
	}
	if err != nil {
		panic(err)
	}
	k := &key{kid: fmt.Sprintf("k%d-%s", kidN.Add(1), alg), alg: alg, priv: priv}
	is.mu.Lock()
	is.keys = append(is.keys, k)
	is.mu.Unlock()
	return k.kid
}

// Rotate adds a new key for alg to the key set (the old ones stay) and
// returns its kid: tokens signed with it have a kid a verifier has not
// seen.
func (is *Issuer) Rotate(alg string) string { return is.addKey(alg) }

// JWKSFetches returns how often the key set was fetched.
func (is *Issuer) JWKSFetches() int64 { return is.jwksN.Load() }

// Introspections returns how many introspection requests were served.
func (is *Issuer) Introspections() int64 { return is.introN.Load() }

func (is *Issuer) jwks() map[string]any {
	is.mu.Lock()
	defer is.mu.Unlock()
	var keys []map[string]any
	for _, k := range is.keys {
		j := map[string]any{"kid": k.kid, "alg": k.alg, "use": "sig"}
		switch pub := k.priv.Public().(type) {
		case *rsa.PublicKey:
			j["kty"] = "RSA"
			j["n"] = b64(pub.N.Bytes())
			j["e"] = b64(big.NewInt(int64(pub.E)).Bytes())
		case *ecdsa.PublicKey:
			j["kty"] = "EC"
			j["crv"] = "P-256"
			j["x"] = b64(pad32(pub.X.Bytes()))
			j["y"] = b64(pad32(pub.Y.Bytes()))
		}
		keys = append(keys, j)
	}
	return map[string]any{"keys": keys}
}

func pad32(b []byte) []byte {
	if len(b) >= 32 {
		return b
	}
	return append(make([]byte, 32-len(b)), b...)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Claims returns the claims of a good token for subject and audience,
// valid for an hour, with scopes.
func (is *Issuer) Claims(subject, audience string, scopes ...string) Claims {
	now := time.Now()
	c := Claims{
		"iss":       is.URL,
		"sub":       subject,
		"aud":       audience,
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
		"client_id": "test-client",
	}
	if len(scopes) > 0 {
		c["scope"] = strings.Join(scopes, " ")
	}
	return c
}

// Mint signs c with the newest key for alg ("RS256" or "ES256").
func (is *Issuer) Mint(alg string, c Claims) string {
	is.mu.Lock()
	var k *key
	for _, x := range is.keys {
		if x.alg == alg {
			k = x
		}
	}
	is.mu.Unlock()
	return is.MintWith(k.kid, c)
}

// MintWith signs c with the key kid.
func (is *Issuer) MintWith(kid string, c Claims) string {
	is.mu.Lock()
	var k *key
	for _, x := range is.keys {
		if x.kid == kid {
			k = x
		}
	}
	is.mu.Unlock()
	if k == nil {
		panic("oauthtest: no key " + kid)
	}
	t := jwt.NewWithClaims(jwt.GetSigningMethod(k.alg), c)
	t.Header["kid"] = k.kid
	t.Header["typ"] = "at+jwt"
	s, err := t.SignedString(k.priv)
	if err != nil {
		panic(err)
	}
	return s
}

// MintForeign signs c with a key that is not in the key set, under an
// existing kid of alg: a bad signature.
func (is *Issuer) MintForeign(alg string, c Claims) string {
	other := &Issuer{opaque: map[string]Claims{}}
	other.addKey(alg)
	is.mu.Lock()
	var kid string
	for _, x := range is.keys {
		if x.alg == alg {
			kid = x.kid
		}
	}
	is.mu.Unlock()
	t := jwt.NewWithClaims(jwt.GetSigningMethod(alg), c)
	t.Header["kid"] = kid
	s, err := t.SignedString(other.keys[0].priv)
	if err != nil {
		panic(err)
	}
	return s
}

// Opaque returns a new opaque token that introspects to c (active).
func (is *Issuer) Opaque(c Claims) string {
	b := make([]byte, 24)
	rand.Read(b)
	tok := "op_" + b64(b)
	is.mu.Lock()
	is.opaque[tok] = c
	is.mu.Unlock()
	return tok
}

// Revoke makes an opaque token introspect as inactive.
func (is *Issuer) Revoke(tok string) {
	is.mu.Lock()
	delete(is.opaque, tok)
	is.mu.Unlock()
}

// Tokens returns how many tokens the token endpoint issued.
func (is *Issuer) Tokens() int64 { return is.tokenN.Load() }

// token is the token endpoint for the client_credentials grant (RFC 6749
// §4.4) with client_secret_basic: an RS256 JWT whose sub is the client,
// whose aud is the RFC 8707 resource parameter, with the scope asked for.
func (is *Issuer) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != is.ClientID || secret != is.ClientSecret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"unsupported_grant_type"}`))
		return
	}
	is.tokenN.Add(1)
	c := is.Claims(id, r.PostForm.Get("resource"), strings.Fields(r.PostForm.Get("scope"))...)
	writeJSON(w, map[string]any{"access_token": is.Mint("RS256", c), "token_type": "Bearer", "expires_in": 3600, "scope": r.PostForm.Get("scope")})
}

// introspect is the RFC 7662 endpoint: client authentication by HTTP
// Basic, then {"active":…} and the token's claims.
func (is *Issuer) introspect(w http.ResponseWriter, r *http.Request) {
	is.introN.Add(1)
	id, secret, ok := r.BasicAuth()
	if !ok || id != is.ClientID || secret != is.ClientSecret {
		w.Header().Set("WWW-Authenticate", `Basic realm="introspection"`)
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	is.mu.Lock()
	c, found := is.opaque[r.PostForm.Get("token")]
	is.mu.Unlock()
	if !found {
		writeJSON(w, map[string]any{"active": false})
		return
	}
	out := map[string]any{"active": true, "token_type": "Bearer"}
	for k, v := range c {
		out[k] = v
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
