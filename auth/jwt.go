package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// Defaults of [JWTOptions].
const (
	DefaultClockSkew       = 30 * time.Second
	DefaultRefetchInterval = 30 * time.Second
)

// DefaultAlgorithms are the JWS algorithms a [JWT] verifier accepts by
// default: asymmetric ones only (an access token signed with a shared
// secret could be minted by anyone holding it).
var DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// JWTOptions configure a [JWT] verifier.
type JWTOptions struct {
	// Issuer is the authorization server's issuer identifier; a token's
	// "iss" must equal it. Required.
	Issuer string
	// Audience is this server's canonical resource URI; a token's "aud"
	// must contain it (RFC 8707; a trailing slash is ignored). Required.
	Audience string
	// JWKSURL is the key set's URL. Default: the jwks_uri of the issuer's
	// metadata ([Discover]), fetched at the first verification.
	JWKSURL string
	// ClockSkew is the leeway on exp, nbf and iat. Default: 30s.
	ClockSkew time.Duration
	// RefetchInterval is the least time between two fetches of the key
	// set for a token whose kid it lacks (key rotation); tokens with an
	// unknown kid in between are refused (in the last 5s before the next
	// refetch may happen, one of them waits for it). Default: 30s.
	RefetchInterval time.Duration
	// Algorithms are the accepted "alg" values. Default: DefaultAlgorithms.
	Algorithms []string
	// HTTPClient fetches the metadata and the key set. Default:
	// http.DefaultClient.
	HTTPClient *http.Client
}

// A JWT verifies JWT access tokens (RFC 9068) signed with a key of the
// issuer's JSON Web Key Set: signature (golang-jwt/jwt v5), key set
// (MicahParks/keyfunc v3 on jwkset: cached, refreshed hourly and on an
// unknown kid, rate-limited), then iss, aud, exp (required), nbf and iat
// with ClockSkew. Put a [Cache] in front of it. Close stops its key set
// refresh. It is safe for concurrent use.
type JWT struct {
	opts   JWTOptions
	parser *jwt.Parser

	ctx    context.Context // ends the key set's refresh goroutine
	cancel context.CancelFunc

	mu      sync.Mutex // guards the fields below
	kf      keyfunc.Keyfunc
	lastErr error     // of the last failed setup
	lastTry time.Time // when setup last failed
}

// NewJWT returns a JWT verifier. It fetches nothing until the first
// token comes (then the issuer's metadata, unless JWKSURL is set, and
// the key set).
func NewJWT(opts JWTOptions) (*JWT, error) {
	if opts.Issuer == "" || opts.Audience == "" {
		return nil, errors.New("auth: a JWT verifier needs an Issuer and an Audience")
	}
	if err := CheckIssuerURL(opts.Issuer); err != nil {
		return nil, err
	}
	if opts.JWKSURL != "" {
		if err := CheckIssuerURL(opts.JWKSURL); err != nil {
			return nil, fmt.Errorf("JWKS URL: %w", err)
		}
	}
	if opts.ClockSkew == 0 {
		opts.ClockSkew = DefaultClockSkew
	}
	if opts.RefetchInterval <= 0 {
		opts.RefetchInterval = DefaultRefetchInterval
	}
	if len(opts.Algorithms) == 0 {
		opts.Algorithms = DefaultAlgorithms
	}
	v := &JWT{opts: opts}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(opts.Algorithms),
		jwt.WithIssuer(opts.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(opts.ClockSkew),
	)
	v.ctx, v.cancel = context.WithCancel(context.Background())
	return v, nil
}

// Close stops the key set's refresh. Verify fails afterwards.
func (v *JWT) Close() error {
	v.cancel()
	return nil
}

// refetchWaitMax bounds how long a token with an unknown kid waits for
// the key set's refetch (see setup).
const refetchWaitMax = 5 * time.Second

// setupRetry is how long a failed setup (metadata or key set
// unreachable) is remembered before the next token tries again.
const setupRetry = 5 * time.Second

// keys returns the key set, fetching it (and the metadata) the first time.
func (v *JWT) keys(ctx context.Context) (keyfunc.Keyfunc, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.kf != nil {
		return v.kf, nil
	}
	if v.ctx.Err() != nil {
		return nil, errors.New("auth: verifier closed")
	}
	if v.lastErr != nil && time.Since(v.lastTry) < setupRetry {
		return nil, v.lastErr
	}
	kf, err := v.setup(ctx)
	if err != nil {
		v.lastErr, v.lastTry = err, time.Now()
		return nil, err
	}
	v.kf = kf
	return kf, nil
}

func (v *JWT) setup(ctx context.Context) (keyfunc.Keyfunc, error) {
	u := v.opts.JWKSURL
	if u == "" {
		md, err := Discover(ctx, v.opts.HTTPClient, v.opts.Issuer)
		if err != nil {
			return nil, err
		}
		if md.JWKSURI == "" {
			return nil, fmt.Errorf("auth: the metadata of %s has no jwks_uri", v.opts.Issuer)
		}
		if err := CheckIssuerURL(md.JWKSURI); err != nil {
			return nil, fmt.Errorf("jwks_uri: %w", err)
		}
		u = md.JWKSURI
	}
	failFirst := false
	kf, err := keyfunc.NewDefaultOverrideCtx(v.ctx, []string{u}, keyfunc.Override{
		Client:                    v.opts.HTTPClient,
		HTTPTimeout:               10 * time.Second,
		NoErrorReturnFirstHTTPReq: &failFirst,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(v.opts.RefetchInterval), 1),
		// jwkset bounds the wait for the limiter and the refetch itself
		// with this one deadline: a token with an unknown kid is refused
		// at once when the next refetch is further away, and otherwise
		// waits for it (at most this long, one request at a time).
		RateLimitWaitMax: refetchWaitMax,
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(context.Context, error) {}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("auth: key set %s: %w", u, err)
	}
	return kf, nil
}

// accessClaims are the claims a JWT access token carries (RFC 9068 §2.2):
// the registered ones and the scopes, as "scope" (a space-separated
// string, RFC 8693 §4.2) or "scp" (a string or an array, as some
// authorization servers send it).
type accessClaims struct {
	jwt.RegisteredClaims
	Scope json.RawMessage `json:"scope,omitempty"`
	Scp   json.RawMessage `json:"scp,omitempty"`
}

// Verify checks token and returns its principal. Errors wrap
// [ErrInvalidToken], except when the key set cannot be had.
func (v *JWT) Verify(ctx context.Context, token string) (*mcp.Principal, error) {
	kf, err := v.keys(ctx)
	if err != nil {
		return nil, err
	}
	var c accessClaims
	t, err := v.parser.ParseWithClaims(token, &c, kf.KeyfuncCtx(ctx))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if !audienceHas(c.Audience, v.opts.Audience) {
		return nil, fmt.Errorf("%w: audience %q does not include %s", ErrInvalidToken, []string(c.Audience), v.opts.Audience)
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: no sub claim", ErrInvalidToken)
	}
	p := &mcp.Principal{
		Subject:  c.Subject,
		Issuer:   c.Issuer,
		Scopes:   scopes(c.Scope, c.Scp),
		Audience: c.Audience,
		Expiry:   c.ExpiresAt.UTC(),
	}
	if parts := strings.Split(t.Raw, "."); len(parts) == 3 {
		if b, err := v.parser.DecodeSegment(parts[1]); err == nil {
			p.Claims = b
		}
	}
	return p, nil
}

// audienceHas reports whether aud contains resource, a trailing slash
// on either side ignored.
func audienceHas(aud []string, resource string) bool {
	resource = strings.TrimSuffix(resource, "/")
	for _, a := range aud {
		if strings.TrimSuffix(a, "/") == resource {
			return true
		}
	}
	return false
}

// scopes reads the scopes of a token's "scope" or "scp" member: a
// space-separated string or an array of strings.
func scopes(members ...json.RawMessage) []string {
	var out []string
	for _, m := range members {
		if len(m) == 0 {
			continue
		}
		var s string
		if json.Unmarshal(m, &s) == nil {
			out = append(out, strings.Fields(s)...)
			continue
		}
		var a []string
		if json.Unmarshal(m, &a) == nil {
			out = append(out, a...)
		}
	}
	return out
}
