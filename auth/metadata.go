package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ResourceMetadata is the Protected Resource Metadata document (RFC 9728
// §2) of an MCP server, which clients read to find its authorization
// servers (2025-11-25 basic/authorization §Authorization Server Location).
type ResourceMetadata struct {
	// Resource is the server's canonical resource URI (RFC 8707), e.g.
	// https://mcp.example.com/mcp. Required.
	Resource string `json:"resource"`
	// AuthorizationServers are the issuer URLs of the authorization
	// servers that issue tokens for it. At least one.
	AuthorizationServers []string `json:"authorization_servers"`
	// ScopesSupported are the scopes the server uses (the server-wide
	// ones and those tools, prompts and resources declare).
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported is ["header"]: tokens are accepted in the
	// Authorization header only (RFC 6750 §2.1).
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	// ResourceName is a human-readable name, optional.
	ResourceName string `json:"resource_name,omitempty"`
}

// WellKnownPRM is the well-known path of Protected Resource Metadata
// (RFC 9728 §3.1).
const WellKnownPRM = "/.well-known/oauth-protected-resource"

// MetadataURL returns where the Protected Resource Metadata of resource
// is published: the well-known path inserted between its host and path
// (RFC 9728 §3.1), e.g. https://mcp.example.com/mcp gives
// https://mcp.example.com/.well-known/oauth-protected-resource/mcp. It
// also returns the path part, to serve it at.
func MetadataURL(resource string) (metadataURL, path string, err error) {
	u, err := url.Parse(resource)
	if err != nil {
		return "", "", fmt.Errorf("auth: resource %q: %w", resource, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", "", fmt.Errorf("auth: resource %q: want an absolute http(s) URL", resource)
	}
	if u.Fragment != "" || u.RawQuery != "" {
		return "", "", fmt.Errorf("auth: resource %q: must have no query or fragment (RFC 8707 §2)", resource)
	}
	path = WellKnownPRM + strings.TrimRight(u.EscapedPath(), "/")
	return u.Scheme + "://" + u.Host + path, path, nil
}

// ServerMetadata is what mcpfiber reads of an authorization server's
// metadata (RFC 8414 §2; OpenID Connect Discovery 1.0 §3).
type ServerMetadata struct {
	Issuer                string   `json:"issuer"`
	JWKSURI               string   `json:"jwks_uri"`
	IntrospectionEndpoint string   `json:"introspection_endpoint"`
	ScopesSupported       []string `json:"scopes_supported"`
}

// Discover fetches the metadata of issuer: RFC 8414 §3.1
// (/.well-known/oauth-authorization-server inserted before the issuer's
// path), falling back to OpenID Connect Discovery
// (/.well-known/openid-configuration, after the path and, as RFC 8414
// §5 allows, before it). The document's issuer must equal issuer (RFC
// 8414 §3.3). A nil client means http.DefaultClient.
func Discover(ctx context.Context, client *http.Client, issuer string) (*ServerMetadata, error) {
	if err := CheckIssuerURL(issuer); err != nil {
		return nil, err
	}
	u, _ := url.Parse(issuer)
	base := u.Scheme + "://" + u.Host
	p := strings.TrimRight(u.EscapedPath(), "/")
	urls := []string{
		base + "/.well-known/oauth-authorization-server" + p,
		base + p + "/.well-known/openid-configuration",
	}
	if p != "" {
		urls = append(urls, base+"/.well-known/openid-configuration"+p)
	}
	var errs []error
	for _, mu := range urls {
		var md ServerMetadata
		err := getJSON(ctx, client, mu, &md)
		if err == nil && md.Issuer != issuer {
			err = fmt.Errorf("metadata issuer %q is not %q (RFC 8414 §3.3)", md.Issuer, issuer)
		}
		if err == nil {
			return &md, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", mu, err))
	}
	return nil, fmt.Errorf("auth: discovering %s: %w", issuer, errors.Join(errs...))
}

// CheckIssuerURL checks that an issuer (or a URL fetched for it) is an
// absolute https URL, or http on a loopback host (localhost, 127.0.0.0/8,
// ::1) for development and tests.
func CheckIssuerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("auth: %q: %w", s, err)
	}
	switch {
	case u.Host == "":
		return fmt.Errorf("auth: %q: want an absolute URL", s)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("auth: %q: http:// only for loopback hosts; use https://", s)
	}
	return fmt.Errorf("auth: %q: want https://", s)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maxMetadataBytes bounds a metadata, key set or introspection document.
const maxMetadataBytes = 1 << 20

// getJSON GETs u and decodes its JSON body into v.
func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxMetadataBytes))
		return fmt.Errorf("status %s", resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, maxMetadataBytes)).Decode(v)
}
