package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Config is how the mcpfiber binary configures authorization (its
// --auth-* flags). Authorization is on when Issuer is set.
type Config struct {
	// Issuer is the authorization server's issuer URL (--auth-issuer);
	// https, or http on a loopback host.
	Issuer string
	// Resource is this server's canonical resource URI (--auth-resource),
	// e.g. https://mcp.example.com/mcp: tokens must carry it in "aud".
	// Required with Issuer.
	Resource string
	// Scopes are the scopes every request needs (--auth-scopes).
	Scopes []string
	// JWKSURL overrides the key set URL of the issuer's metadata
	// (--auth-jwks-url).
	JWKSURL string
	// IntrospectionURL is an RFC 7662 endpoint for opaque tokens
	// (--auth-introspection-url), with ClientID and ClientSecret
	// (--auth-client-id, --auth-client-secret).
	IntrospectionURL, ClientID, ClientSecret string
	// HTTPClient fetches metadata, key sets and introspections. Default:
	// http.DefaultClient.
	HTTPClient *http.Client
	// Cache configures the cache of verified tokens; nil means defaults.
	Cache *CacheOptions
}

// Enabled reports whether c turns authorization on.
func (c *Config) Enabled() bool { return c.Issuer != "" }

// Validate checks c, naming the flag at fault. A c that is not Enabled is
// valid only if no other field is set.
func (c *Config) Validate() error {
	if !c.Enabled() {
		if c.Resource != "" || len(c.Scopes) > 0 || c.JWKSURL != "" || c.IntrospectionURL != "" || c.ClientID != "" || c.ClientSecret != "" {
			return errors.New("--auth-* flags need --auth-issuer (authorization is off without it)")
		}
		return nil
	}
	if err := CheckIssuerURL(c.Issuer); err != nil {
		return fmt.Errorf("--auth-issuer: %w", err)
	}
	if c.Resource == "" {
		return errors.New("--auth-resource is required with --auth-issuer: this server's canonical URI, e.g. https://mcp.example.com/mcp, which tokens must carry in aud")
	}
	if _, _, err := MetadataURL(c.Resource); err != nil {
		return fmt.Errorf("--auth-resource: %w", err)
	}
	if c.JWKSURL != "" {
		if err := CheckIssuerURL(c.JWKSURL); err != nil {
			return fmt.Errorf("--auth-jwks-url: %w", err)
		}
	}
	if c.IntrospectionURL != "" {
		if err := CheckIssuerURL(c.IntrospectionURL); err != nil {
			return fmt.Errorf("--auth-introspection-url: %w", err)
		}
	} else if c.ClientID != "" || c.ClientSecret != "" {
		return errors.New("--auth-client-id and --auth-client-secret go with --auth-introspection-url")
	}
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \"\\") {
			return fmt.Errorf("--auth-scopes: %q is not a scope token (RFC 6749 §3.3)", s)
		}
	}
	return nil
}

// NewVerifier returns the verifier c describes: JWTs checked against the
// issuer's key set ([JWT]) and, with IntrospectionURL, opaque tokens
// introspected ([Introspection]), behind a [Cache]. Close it to stop the
// key set refresh.
func (c *Config) NewVerifier() (*Cache, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if !c.Enabled() {
		return nil, errors.New("auth: not enabled (no issuer)")
	}
	jv, err := NewJWT(JWTOptions{Issuer: c.Issuer, Audience: c.Resource, JWKSURL: c.JWKSURL, HTTPClient: c.HTTPClient})
	if err != nil {
		return nil, err
	}
	var opaque Verifier
	if c.IntrospectionURL != "" {
		iv, err := NewIntrospection(IntrospectionOptions{
			URL: c.IntrospectionURL, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
			Issuer: c.Issuer, Audience: c.Resource, HTTPClient: c.HTTPClient,
		})
		if err != nil {
			return nil, err
		}
		opaque = iv
	}
	return NewCache(Chain(jv, opaque), c.Cache), nil
}

// SplitScopes splits a comma- or space-separated scope list (the form of
// --auth-scopes), dropping empty entries.
func SplitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}
