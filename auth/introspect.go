package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// IntrospectionOptions configure an [Introspection] verifier.
type IntrospectionOptions struct {
	// URL is the introspection endpoint (RFC 7662 §2). Required.
	URL string
	// ClientID and ClientSecret authenticate this server to it (HTTP
	// Basic, RFC 7662 §2.1 and RFC 6749 §2.3.1).
	ClientID, ClientSecret string
	// Issuer is the trusted issuer: a response's "iss", when present, must
	// equal it, and it is the principal's issuer when absent. Required.
	Issuer string
	// Audience is this server's canonical resource URI: a response's
	// "aud", when present, must contain it. Required.
	Audience string
	// ClockSkew is the leeway on exp and nbf. Default: 30s.
	ClockSkew time.Duration
	// HTTPClient makes the requests. Default: http.DefaultClient.
	HTTPClient *http.Client
}

// An Introspection verifies opaque access tokens by asking the
// authorization server (RFC 7662): one POST per token, so put a [Cache]
// in front of it. It is safe for concurrent use.
type Introspection struct {
	opts IntrospectionOptions
}

// NewIntrospection returns an Introspection verifier.
func NewIntrospection(opts IntrospectionOptions) (*Introspection, error) {
	if opts.URL == "" || opts.Issuer == "" || opts.Audience == "" {
		return nil, errors.New("auth: introspection needs a URL, an Issuer and an Audience")
	}
	if err := CheckIssuerURL(opts.URL); err != nil {
		return nil, fmt.Errorf("introspection URL: %w", err)
	}
	if opts.ClockSkew == 0 {
		opts.ClockSkew = DefaultClockSkew
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	return &Introspection{opts: opts}, nil
}

// introspection is an introspection response (RFC 7662 §2.2).
type introspection struct {
	Active bool            `json:"active"`
	Scope  string          `json:"scope"`
	Sub    string          `json:"sub"`
	Iss    string          `json:"iss"`
	Aud    json.RawMessage `json:"aud"`
	Exp    int64           `json:"exp"`
	Nbf    int64           `json:"nbf"`
}

// Verify asks the introspection endpoint about token. Errors wrap
// [ErrInvalidToken] for an inactive or unacceptable token; others mean
// the endpoint could not be asked.
func (v *Introspection) Verify(ctx context.Context, token string) (*mcp.Principal, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.opts.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if v.opts.ClientID != "" {
		req.SetBasicAuth(url.QueryEscape(v.opts.ClientID), url.QueryEscape(v.opts.ClientSecret))
	}
	resp, err := v.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("auth: introspection: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes))
	if err != nil {
		return nil, fmt.Errorf("auth: introspection: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("auth: introspection: status %s", resp.Status)
	}
	var r introspection
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("auth: introspection response: %w", err)
	}
	now := time.Now()
	switch {
	case !r.Active:
		return nil, fmt.Errorf("%w: not active", ErrInvalidToken)
	case r.Iss != "" && r.Iss != v.opts.Issuer:
		return nil, fmt.Errorf("%w: issuer %q", ErrInvalidToken, r.Iss)
	case r.Exp != 0 && now.After(time.Unix(r.Exp, 0).Add(v.opts.ClockSkew)):
		return nil, fmt.Errorf("%w: expired", ErrInvalidToken)
	case r.Nbf != 0 && now.Add(v.opts.ClockSkew).Before(time.Unix(r.Nbf, 0)):
		return nil, fmt.Errorf("%w: not yet valid", ErrInvalidToken)
	case r.Sub == "":
		return nil, fmt.Errorf("%w: no sub", ErrInvalidToken)
	}
	aud := scopes(r.Aud) // a string or an array, as "scp"
	if len(r.Aud) > 0 && !audienceHas(aud, v.opts.Audience) {
		return nil, fmt.Errorf("%w: audience %q does not include %s", ErrInvalidToken, aud, v.opts.Audience)
	}
	p := &mcp.Principal{
		Subject:  r.Sub,
		Issuer:   v.opts.Issuer,
		Scopes:   strings.Fields(r.Scope),
		Audience: aud,
		Claims:   body,
	}
	if r.Exp != 0 {
		p.Expiry = time.Unix(r.Exp, 0).UTC()
	}
	return p, nil
}

// IsJWT reports whether token has the shape of a JWS compact
// serialization (three base64url segments, RFC 7515 §7.1), as opposed to
// an opaque token. It does not allocate.
func IsJWT(token string) bool {
	return strings.Count(token, ".") == 2 && !strings.HasPrefix(token, ".")
}

// Chain returns a Verifier that verifies JWT-shaped tokens with jwtv and
// other (opaque) tokens with opaque; either may be nil. Without jwtv
// every token goes to opaque; without opaque, opaque tokens are invalid.
// A JWT that jwtv refuses is not passed on, but one jwtv cannot check
// (its key set is unreachable, or the issuer publishes none) is
// introspected. Close closes both when they have a Close method.
func Chain(jwtv, opaque Verifier) Verifier { return &chain{jwtv, opaque} }

type chain struct{ jwtv, opaque Verifier }

func (c *chain) Verify(ctx context.Context, token string) (*mcp.Principal, error) {
	if c.jwtv != nil && IsJWT(token) {
		p, err := c.jwtv.Verify(ctx, token)
		if err == nil || c.opaque == nil || errors.Is(err, ErrInvalidToken) {
			return p, err
		}
	}
	if c.opaque == nil {
		return nil, fmt.Errorf("%w: not a JWT", ErrInvalidToken)
	}
	return c.opaque.Verify(ctx, token)
}

func (c *chain) Close() error { return errors.Join(closeVerifier(c.jwtv), closeVerifier(c.opaque)) }

// closeVerifier closes v if it has a Close method.
func closeVerifier(v Verifier) error {
	if c, ok := v.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
