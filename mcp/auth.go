package mcp

// Authorization (2025-11-25 basic/authorization): the principal a session
// is bound to, what a request's handler sees of it, and the scopes that
// tools, prompts and resources declare. The transport verifies tokens
// (package auth); this file only carries what it found.

import (
	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// Same reports whether p and q are the same principal: the same issuer
// and subject (nil is only the same as nil). Scopes, audience, expiry and
// claims may differ: a refreshed token of the same principal is the same
// principal. It does not allocate.
func (p *Principal) Same(q *Principal) bool {
	if p == nil || q == nil {
		return p == q
	}
	return p.Subject == q.Subject && p.Issuer == q.Issuer
}

// HasScope reports whether p was granted scope. It does not allocate.
func (p *Principal) HasScope(scope string) bool {
	if p == nil {
		return false
	}
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// HasScopes reports whether p was granted every one of scopes. It does
// not allocate.
func (p *Principal) HasScopes(scopes []string) bool {
	for _, s := range scopes {
		if !p.HasScope(s) {
			return false
		}
	}
	return true
}

// SetPrincipal binds the session to p. The transport calls it when the
// session starts, after [Backend.Initialize] and before the session is
// published (given an ID others can name): the principal is read without
// a lock afterwards and must not change. p is read-only from then on.
func (st *SessionState) SetPrincipal(p *Principal) { st.principal = p }

// Principal returns who sent this request: the principal of the verified
// access token it came with (its scopes and claims, which may be newer
// than the session's), or the session's principal, or nil when the
// transport does not authenticate. The result is read-only.
func (r *Request) Principal() *Principal {
	if r.call != nil && r.call.Principal != nil {
		return r.call.Principal
	}
	return r.Session.principal
}

// noteScopes records that something declares scopes, so RequiredScopes
// has work to do.
func (s *Server) noteScopes(scopes []string) {
	if len(scopes) > 0 {
		s.scoped.Store(true)
	}
}

// principalBind is what binds a sealed requestState to the principal of
// the request that got it (appended to the sealer's additional data): a
// state issued to one principal fails to open for another, as a tampered
// one does. Empty for no principal.
func principalBind(p *Principal) string {
	if p == nil {
		return ""
	}
	return "\x00principal\x00" + p.Issuer + "\x00" + p.Subject
}

// A ScopeRequirer tells the transport which OAuth scopes a request needs
// beyond the server-wide ones, before the request runs, so that a request
// whose token lacks one is refused with 403 insufficient_scope and the
// full list (2025-11-25 basic/authorization §Scope Challenge Handling;
// SEP-2350). [*Server] implements it from the Scopes of its tools,
// prompts and resources.
type ScopeRequirer interface {
	// RequiredScopes returns the scopes a request for method with params
	// needs, nil for none. The result is read-only.
	RequiredScopes(method string, params json.RawMessage) []string
}

var _ ScopeRequirer = (*Server)(nil)

// RequiredScopes returns the Scopes of the tool a tools/call names, of
// the prompt a prompts/get names, or of the resource a resources/read
// names; nil for other methods and unknown names (the request then fails
// as it would without authorization). It decodes only the name or URI of
// params, and nothing at all (no allocation) while nothing registered
// declares Scopes.
func (s *Server) RequiredScopes(method string, params json.RawMessage) []string {
	if !s.scoped.Load() {
		return nil // nothing declares scopes: no decoding
	}
	var key string
	switch method {
	case MethodToolsCall, MethodPromptsGet:
		key = "name"
	case MethodResourcesRead:
		key = "uri"
	default:
		return nil
	}
	var p struct {
		Name string `json:"name"`
		URI  string `json:"uri"`
	}
	if len(params) == 0 || jsonrpc.Unmarshal(params, &p) != nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case method == MethodToolsCall:
		if t := s.tools[p.Name]; t != nil {
			return t.tool.Scopes
		}
	case method == MethodPromptsGet:
		if t := s.prompts[p.Name]; t != nil {
			return t.prompt.Scopes
		}
	case key == "uri":
		if t := s.resources[p.URI]; t != nil {
			return t.resource.Scopes
		}
	}
	return nil
}
