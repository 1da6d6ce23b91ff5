package auth

import (
	"bytes"
	"context"
	"errors"
	"slices"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// A Verifier checks an access token and returns its principal: issuer,
// subject, scopes, audience, expiry and claims. It must check that the
// token is for this resource server (its audience, RFC 8707), was issued
// by the trusted issuer, and is within its validity period.
//
// token may alias request memory: Verify must not retain it after it
// returns (copy it, e.g. with strings.Clone, to keep it). The principal
// returned is shared read-only with whoever asks later (a [Cache] hands
// the same one to every request with the token).
//
// A Verifier must be safe for concurrent use.
type Verifier interface {
	// Verify returns the token's principal, or an error: one wrapping
	// [ErrInvalidToken] when the token is not acceptable (401
	// invalid_token); any other when it could not be checked (the
	// authorization server or its key set is unreachable: 503).
	Verify(ctx context.Context, token string) (*mcp.Principal, error)
}

// VerifierFunc adapts a function to a [Verifier].
type VerifierFunc func(ctx context.Context, token string) (*mcp.Principal, error)

// Verify calls f.
func (f VerifierFunc) Verify(ctx context.Context, token string) (*mcp.Principal, error) {
	return f(ctx, token)
}

// ErrInvalidToken is wrapped by the errors of a [Verifier] for a token
// that is malformed, expired, not yet valid, badly signed, signed by an
// unknown key, or for another issuer or audience (RFC 6750 §3.1
// invalid_token).
var ErrInvalidToken = errors.New("auth: invalid token")

// ParseBearer returns the token of an Authorization header value of the
// Bearer scheme (RFC 6750 §2.1: "Bearer" case-insensitively, one or more
// spaces, a token68), and whether it is one. Surrounding spaces and tabs are
// ignored. The token aliases h. It does not allocate; FuzzParseBearer
// checks it against a reference.
func ParseBearer(h []byte) (token []byte, ok bool) {
	h = bytes.Trim(h, " \t")
	const scheme = "bearer"
	if len(h) < len(scheme)+2 || h[len(scheme)] != ' ' {
		return nil, false
	}
	for i := range len(scheme) {
		if h[i]|0x20 != scheme[i] {
			return nil, false
		}
	}
	t := bytes.TrimLeft(h[len(scheme):], " ")
	if len(t) == 0 {
		return nil, false
	}
	// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
	i := 0
	for ; i+8 <= len(t); i += 8 { // eight at a time: one branch for the common case
		if !(token68[t[i]] && token68[t[i+1]] && token68[t[i+2]] && token68[t[i+3]] &&
			token68[t[i+4]] && token68[t[i+5]] && token68[t[i+6]] && token68[t[i+7]]) {
			break
		}
	}
	for i < len(t) && isToken68(t[i]) {
		i++
	}
	if i == 0 {
		return nil, false
	}
	for j := i; j < len(t); j++ {
		if t[j] != '=' {
			return nil, false
		}
	}
	return t, true
}

func isToken68(c byte) bool { return token68[c] }

// token68 marks the bytes of RFC 7235's token68 but "=".
var token68 = func() (t [256]bool) {
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			t[c] = true
		}
	}
	for _, c := range []byte("-._~+/") {
		t[c] = true
	}
	return t
}()

// Error codes of a Bearer challenge (RFC 6750 §3.1).
const (
	ErrorInvalidRequest    = "invalid_request"
	ErrorInvalidToken      = "invalid_token"
	ErrorInsufficientScope = "insufficient_scope"
)

// AppendChallenge appends a WWW-Authenticate value of the Bearer scheme
// (RFC 6750 §3; RFC 9728 §5.1) to dst: resource_metadata, then error when
// code is not empty, then scope (scopes joined by spaces, each once) when
// there are any. Values are quoted strings, with '"' and '\' escaped.
// It allocates only to grow dst.
func AppendChallenge(dst []byte, resourceMetadata, code string, scopes []string) []byte {
	dst = append(dst, "Bearer"...)
	first := true
	param := func(name string) {
		if first {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, ',', ' ')
		}
		first = false
		dst = append(dst, name...)
		dst = append(dst, '=', '"')
	}
	if resourceMetadata != "" {
		param("resource_metadata")
		dst = appendQuoted(dst, resourceMetadata)
		dst = append(dst, '"')
	}
	if code != "" {
		param("error")
		dst = appendQuoted(dst, code)
		dst = append(dst, '"')
	}
	if len(scopes) > 0 {
		param("scope")
		n := 0
		for i, s := range scopes {
			if s == "" || containsBefore(scopes, i, s) {
				continue
			}
			if n > 0 {
				dst = append(dst, ' ')
			}
			n++
			dst = appendQuoted(dst, s)
		}
		dst = append(dst, '"')
	}
	return dst
}

// containsBefore reports whether s is among ss[:i].
func containsBefore(ss []string, i int, s string) bool {
	return slices.Contains(ss[:i], s)
}

// appendQuoted appends s as the inside of an RFC 9110 quoted-string:
// '"' and '\' escaped; control characters other than HTAB, which a
// quoted-string cannot hold, dropped.
func appendQuoted(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20 && c != '\t', c == 0x7f:
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// Union returns the scopes of a followed by those of b not in a, in
// order, without duplicates: every scope a request needs, for one
// challenge (SEP-2350). It returns a itself when b adds nothing.
func Union(a, b []string) []string {
	add := false
	for _, s := range b {
		if !contains(a, s) {
			add = true
			break
		}
	}
	if !add {
		return a
	}
	out := make([]string, 0, len(a)+len(b))
	for _, s := range a {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	for _, s := range b {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	return slices.Contains(ss, s)
}
