package transport

// Authorization (2025-11-25 basic/authorization): the Handler as an OAuth
// 2.1 resource server. With Options.Auth set, every POST, GET and DELETE,
// at every revision, is authenticated right after the framing and Origin
// checks, before anything else of the request costs anything:
//
//	access_token in the query     400  Bearer resource_metadata="…", error="invalid_request"
//	no Authorization header       401  Bearer resource_metadata="…", scope="…"
//	not a Bearer token, or one    401  Bearer resource_metadata="…", error="invalid_token"
//	  the Verifier refuses
//	the Verifier cannot check it  503  Retry-After
//	a valid token without the     403  Bearer resource_metadata="…", error="insufficient_scope", scope="…"
//	  server-wide scopes
//
// each with a JSON-RPC error body as the other refusals. Then:
//
//   - a session is bound to the principal (issuer and subject) of the
//     token that initialized it ([mcp.SessionState.SetPrincipal], so it is
//     part of its [mcp.SessionRecord]); a request with another principal's
//     valid token that names it gets 404, exactly as for an unknown
//     session;
//   - a request for a tool, prompt or resource that declares Scopes the
//     token lacks ([mcp.ScopeRequirer]) gets 403 insufficient_scope with
//     every scope it needs (the server-wide ones and its own; SEP-2350).
//     The check runs after the body is decoded and before anything of the
//     POST runs, so the 403 is the POST's status: in a 2025-03-26 batch,
//     one such request refuses the whole batch;
//   - each request's [mcp.Call] and [mcp.StatelessCall] carry the
//     principal, which handlers read with [mcp.Request.Principal]; a
//     2026-07-28 task is found only by requests of the principal that
//     created it (another's tasks/get gets -32602 unknown task).

import (
	"bytes"
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// Auth configures the authorization of a [Handler] (Options.Auth).
type Auth struct {
	// Verifier checks access tokens; put an [auth.Cache] in front of a
	// verifier that does real work. Required.
	Verifier auth.Verifier
	// Resource is the server's canonical resource URI, e.g.
	// https://mcp.example.com/mcp: the "resource" of the Protected
	// Resource Metadata, which is served at
	// /.well-known/oauth-protected-resource and at that path followed by
	// Resource's path (RFC 9728 §3.1) and by Options.Path. Required.
	Resource string
	// AuthorizationServers are the issuers listed in the metadata. At
	// least one.
	AuthorizationServers []string
	// Scopes are the scopes every request needs. Default: none.
	Scopes []string
	// ScopesSupported are the metadata's scopes_supported. Default:
	// Scopes.
	ScopesSupported []string
	// ResourceName is the metadata's resource_name. Optional.
	ResourceName string
}

// authState is Options.Auth made ready: the verifier, the prebuilt
// challenges and the metadata document. Immutable.
type authState struct {
	v           auth.Verifier
	scopes      []string
	scoper      mcp.ScopeRequirer // the backend's, nil when it declares no per-request scopes
	metadataURL string
	prmPaths    []string // where the metadata is served
	prm         []byte   // the metadata document

	// WWW-Authenticate values, built once so that the refusals do not
	// allocate.
	chMissing, chInvalid, chScope, chRequest []byte
}

// newAuthState returns the state of a, nil for none. It panics on a
// configuration that cannot work (no verifier, a resource that is not an
// absolute URL): programming errors.
func newAuthState(a *Auth, b mcp.Backend) *authState {
	if a == nil {
		return nil
	}
	if a.Verifier == nil || len(a.AuthorizationServers) == 0 {
		panic("transport: Options.Auth needs a Verifier and AuthorizationServers")
	}
	mdURL, mdPath, err := auth.MetadataURL(a.Resource)
	if err != nil {
		panic("transport: Options.Auth: " + err.Error())
	}
	st := &authState{v: a.Verifier, scopes: a.Scopes, metadataURL: mdURL}
	st.scoper, _ = b.(mcp.ScopeRequirer)
	st.prmPaths = []string{auth.WellKnownPRM}
	if mdPath != auth.WellKnownPRM {
		st.prmPaths = append(st.prmPaths, mdPath)
	}
	supported := a.ScopesSupported
	if supported == nil {
		supported = a.Scopes
	}
	st.prm, err = jsonrpc.Marshal(&auth.ResourceMetadata{
		Resource:               a.Resource,
		AuthorizationServers:   a.AuthorizationServers,
		ScopesSupported:        supported,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           a.ResourceName,
	})
	if err != nil {
		panic("transport: Options.Auth: " + err.Error())
	}
	st.chMissing = auth.AppendChallenge(nil, mdURL, "", a.Scopes)
	st.chInvalid = auth.AppendChallenge(nil, mdURL, auth.ErrorInvalidToken, nil)
	st.chScope = auth.AppendChallenge(nil, mdURL, auth.ErrorInsufficientScope, a.Scopes)
	st.chRequest = auth.AppendChallenge(nil, mdURL, auth.ErrorInvalidRequest, nil)
	return st
}

// principalKey is the RequestCtx user value that holds the request's
// principal, for the code that has no reqHeaders at hand.
const principalKey = "mcpfiber.principal"

// principalOf returns the principal authenticate found for the request,
// or nil. It does not allocate.
func principalOf(ctx *fasthttp.RequestCtx) *mcp.Principal {
	p, _ := ctx.UserValue(principalKey).(*mcp.Principal)
	return p
}

var (
	hdrAuthorization   = []byte(fasthttp.HeaderAuthorization)
	hdrWWWAuthenticate = []byte(fasthttp.HeaderWWWAuthenticate)
	queryAccessToken   = []byte("access_token")
)

// authenticate checks the request's access token and, if it is good,
// keeps its principal in hdr and the request's user values and returns
// true; otherwise it writes the refusal and returns false. A token served
// from an [auth.Cache] costs a SHA-256 and a map read; the refusals do not
// allocate (TestAuthRefusalAllocs).
func (h *Handler) authenticate(ctx *fasthttp.RequestCtx, hdr *reqHeaders) bool {
	a := h.auth
	// RFC 6750 §2.3 / 2025-11-25 basic/authorization §Token Requirements:
	// "Access tokens MUST NOT be included in the URI query string".
	if len(ctx.URI().QueryString()) > 0 && ctx.QueryArgs().HasBytes(queryAccessToken) {
		h.refuseAuth(ctx, refuseTokenInQuery, a.chRequest)
		return false
	}
	if len(hdr.authorization) == 0 {
		h.refuseAuth(ctx, refuseUnauthorized, a.chMissing)
		return false
	}
	tok, ok := auth.ParseBearer(hdr.authorization)
	if !ok {
		h.refuseAuth(ctx, refuseInvalidToken, a.chInvalid)
		return false
	}
	// Not ctx: a RequestCtx's Done works only under a fasthttp.Server, and
	// verifiers bound their own network calls.
	p, err := a.v.Verify(context.Background(), b2s(tok))
	if err != nil {
		if errors.Is(err, auth.ErrInvalidToken) {
			h.refuseAuth(ctx, refuseInvalidToken, a.chInvalid)
		} else {
			h.log.Warn("transport: an access token could not be verified", "err", err)
			h.refuse(ctx, refuseAuthUnavailable)
		}
		return false
	}
	if !p.HasScopes(a.scopes) {
		h.refuseAuth(ctx, refuseInsufficientScope, a.chScope)
		return false
	}
	hdr.principal = p
	ctx.SetUserValue(principalKey, p)
	return true
}

// authorizeCalls checks that p has the scopes each request of msgs needs
// (the backend's [mcp.ScopeRequirer]), and otherwise answers 403
// insufficient_scope listing every scope the requests need, the
// server-wide ones included, and returns false. The server-wide scopes
// were checked by authenticate.
func (h *Handler) authorizeCalls(ctx *fasthttp.RequestCtx, p *mcp.Principal, msgs []*jsonrpc.Message) bool {
	a := h.auth
	if a.scoper == nil {
		return true
	}
	var need []string
	missing := false
	for _, m := range msgs {
		if m.Kind != jsonrpc.KindRequest {
			continue
		}
		s := a.scoper.RequiredScopes(m.Method, m.Params)
		if len(s) == 0 {
			continue
		}
		need = auth.Union(need, s)
		missing = missing || !p.HasScopes(s)
	}
	if !missing {
		return true
	}
	h.refuseAuth(ctx, refuseInsufficientScope, auth.AppendChallenge(nil, a.metadataURL, auth.ErrorInsufficientScope, auth.Union(a.scopes, need)))
	return false
}

// refuseAuth answers with refusal k and the WWW-Authenticate challenge
// ch (referenced, not copied). It does not allocate.
func (h *Handler) refuseAuth(ctx *fasthttp.RequestCtx, k refusalKind, ch []byte) {
	ctx.Response.Header.SetCanonical(hdrWWWAuthenticate, ch)
	h.refuse(ctx, k)
}

// ownedBy reports whether session s may be used by principal p: s is
// bound to the same issuer and subject. A session started without
// authorization (no principal) is no one's. It does not allocate.
func ownedBy(s *sessions.Session, p *mcp.Principal) bool {
	c := s.Conn()
	if c == nil || p == nil {
		return false
	}
	return c.State().Principal().Same(p)
}

// isPRMPath reports whether path is under the well-known metadata path,
// which browsers of any origin may read (the guard lets them through).
func isPRMPath(path []byte) bool {
	return bytes.HasPrefix(path, prmPrefix)
}

var prmPrefix = []byte(auth.WellKnownPRM)

// registerAuth mounts the Protected Resource Metadata (RFC 9728 §3) on
// r, when authorization is on: GET (and HEAD) with
// Access-Control-Allow-Origin: *, so that browser-based clients can read
// it (2025-11-25 basic/authorization §Protected Resource Metadata
// Discovery Requirements), and OPTIONS for CORS preflights.
func (h *Handler) registerAuth(r fiber.Router) {
	a := h.auth
	if a == nil {
		return
	}
	paths := a.prmPaths
	if p := auth.WellKnownPRM + h.opts.Path; !contains(paths, p) {
		paths = append(paths, p)
	}
	serve := func(c *fiber.Ctx) error {
		ctx := c.Context()
		ctx.Response.Header.Set(fasthttp.HeaderAccessControlAllowOrigin, "*")
		ctx.Response.Header.Set(fasthttp.HeaderAccessControlAllowMethods, "GET, OPTIONS")
		ctx.Response.Header.Set(fasthttp.HeaderAccessControlAllowHeaders, "Mcp-Protocol-Version")
		ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "max-age=3600")
		if c.Method() == fiber.MethodOptions {
			ctx.SetStatusCode(fasthttp.StatusNoContent)
			return nil
		}
		ctx.Response.Header.SetContentTypeBytes(ctJSON)
		ctx.Response.SetBodyRaw(a.prm)
		return nil
	}
	for _, p := range paths {
		r.Get(p, serve)
		r.Options(p, serve)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
