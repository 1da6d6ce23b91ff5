package transport

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/auth"
	"github.com/mcpfiber/mcpfiber/internal/oauthtest"
	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

const (
	testResource = "https://mcp.example.com/mcp"
	testPRM      = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
)

// An authServer is a testServer with Options.Auth: tokens from a real
// issuer on loopback (JWT, RS256 and ES256, with key discovery), every
// request needing scope "mcp", and three more tools: "admin" (needs scope
// "admin"), "whoami" (returns the request's principal) and "ask" (a
// 2026-07-28 input-required round with requestState).
type authServer struct {
	*testServer
	is *oauthtest.Issuer
	v  *auth.Cache
}

func newAuthServer(t *testing.T) *authServer {
	t.Helper()
	is := oauthtest.Start(t, false)
	jv, err := auth.NewJWT(auth.JWTOptions{Issuer: is.URL, Audience: testResource, ClockSkew: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	v := auth.NewCache(jv, nil)
	t.Cleanup(func() { v.Close() })
	ts := newTestServer(t, &Options{Auth: &Auth{
		Verifier:             v,
		Resource:             testResource,
		AuthorizationServers: []string{is.URL},
		Scopes:               []string{"mcp"},
		ScopesSupported:      []string{"mcp", "admin"},
	}})
	obj := json.RawMessage(`{"type":"object"}`)
	ts.srv.AddTool(&mcp.Tool{Name: "admin", InputSchema: obj, Scopes: []string{"admin"}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("admin ok")}}, nil
	})
	ts.srv.AddTool(&mcp.Tool{Name: "whoami", InputSchema: obj}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		p := req.Principal()
		var c struct {
			ClientID string `json:"client_id"`
		}
		_ = json.Unmarshal(p.Claims, &c)
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(p.Subject + " " + strings.Join(p.Scopes, ",") + " " + c.ClientID)}}, nil
	})
	ts.srv.AddTool(&mcp.Tool{Name: "ask", InputSchema: obj}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if req.Params.RequestState != "" {
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("state=" + req.Params.RequestState)}}, nil
		}
		return &mcp.CallToolResult{
			InputRequests: mcp.InputRequests{"who": mcp.ElicitInput(&mcp.ElicitParams{Message: "name?", RequestedSchema: json.RawMessage(`{"type":"object"}`)})},
			RequestState:  "alice-only",
		}, nil
	})
	return &authServer{testServer: ts, is: is, v: v}
}

// token mints an RS256 token for subject with scopes.
func (as *authServer) token(subject string, scopes ...string) string {
	return as.is.Mint("RS256", as.is.Claims(subject, testResource, scopes...))
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// initializeAs starts a session with tok.
func (as *authServer) initializeAs(t *testing.T, tok string) string {
	t.Helper()
	r := as.do(t, http.MethodPost, "", initBody("2025-11-25"), bearer(tok)...)
	if r.status != http.StatusOK {
		t.Fatalf("initialize: %d %s", r.status, r.body)
	}
	sid := r.header.Get("Mcp-Session-Id")
	if r := as.do(t, http.MethodPost, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, bearer(tok)...); r.status != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d %s", r.status, r.body)
	}
	return sid
}

// modernCall is a 2026-07-28 tools/call of tool, with its headers.
func modernCall(tool, extra string) (string, []string) {
	body := `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}` + extra +
		`,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{}}}}}`
	return body, []string{"MCP-Protocol-Version", "2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", tool}
}

// TestAuthRefusals: one row per way a request can fail authorization,
// on every method and at 2026-07-28: status, challenge and JSON-RPC body.
func TestAuthRefusals(t *testing.T) {
	as := newAuthServer(t)
	is := as.is
	good := as.token("alice", "mcp")
	now := time.Now()
	claims := func(k string, v any) oauthtest.Claims {
		c := is.Claims("alice", testResource, "mcp")
		c[k] = v
		return c
	}
	modernBody, modernHdr := modernCall("echo", "")
	missing := `Bearer resource_metadata="` + testPRM + `", scope="mcp"`
	invalid := `Bearer resource_metadata="` + testPRM + `", error="invalid_token"`
	tests := []struct {
		name      string
		method    string
		sid       string
		body      string
		query     string
		hdr       []string
		status    int
		challenge string // the whole WWW-Authenticate value
	}{
		{"POST no token", http.MethodPost, "", pingBody, "", nil, 401, missing},
		{"GET no token", http.MethodGet, unknownSID, "", "", nil, 401, missing},
		{"DELETE no token", http.MethodDelete, unknownSID, "", "", nil, 401, missing},
		{"PUT no token", http.MethodPut, "", "", "", nil, 401, missing},
		{"2026-07-28 no token", http.MethodPost, "", modernBody, "", modernHdr, 401, missing},
		{"not Bearer", http.MethodPost, "", pingBody, "", []string{"Authorization", "Basic YTpi"}, 401, invalid},
		{"empty Bearer", http.MethodPost, "", pingBody, "", []string{"Authorization", "Bearer "}, 401, invalid},
		{"malformed", http.MethodPost, "", pingBody, "", bearer("not-a-jwt"), 401, invalid},
		{"expired", http.MethodPost, "", pingBody, "", bearer(is.Mint("RS256", claims("exp", now.Add(-time.Minute).Unix()))), 401, invalid},
		{"nbf in future", http.MethodPost, "", pingBody, "", bearer(is.Mint("ES256", claims("nbf", now.Add(time.Hour).Unix()))), 401, invalid},
		{"bad signature", http.MethodPost, "", pingBody, "", bearer(is.MintForeign("RS256", claims("x", 1))), 401, invalid},
		{"wrong iss", http.MethodPost, "", pingBody, "", bearer(is.Mint("RS256", claims("iss", "https://evil.example"))), 401, invalid},
		{"another resource", http.MethodPost, "", pingBody, "", bearer(is.Mint("RS256", claims("aud", "https://other.example/mcp"))), 401, invalid},
		{"GET bad token", http.MethodGet, unknownSID, "", "", bearer("x.y.z"), 401, invalid},
		{"DELETE bad token", http.MethodDelete, unknownSID, "", "", bearer("x.y.z"), 401, invalid},
		{"2026-07-28 bad token", http.MethodPost, "", modernBody, "", append(bearer("x.y.z"), modernHdr...), 401, invalid},
		{"no scope", http.MethodPost, "", pingBody, "", bearer(as.token("alice")), 403,
			`Bearer resource_metadata="` + testPRM + `", error="insufficient_scope", scope="mcp"`},
		{"token in query", http.MethodPost, "", pingBody, "?access_token=" + good, nil, 400,
			`Bearer resource_metadata="` + testPRM + `", error="invalid_request"`},
		{"token in query and header", http.MethodPost, "", pingBody, "?x=1&access_token=" + good, bearer(good), 400,
			`Bearer resource_metadata="` + testPRM + `", error="invalid_request"`},
		{"admin tool without admin", http.MethodPost, "", callBody(3, "admin", "{}"), "", nil, 0, ""}, // in TestAuthToolScopes
	}
	for _, tt := range tests {
		if tt.status == 0 {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			req := as.request(t, tt.method, tt.sid, tt.body, tt.hdr...)
			if tt.query != "" {
				req.URL.RawQuery = strings.TrimPrefix(tt.query, "?")
			}
			resp, err := as.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e rpcError
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error == nil {
				t.Fatalf("body is not a JSON-RPC error: %v", err)
			}
			if resp.StatusCode != tt.status || resp.Header.Get("WWW-Authenticate") != tt.challenge || e.Error.Code != jsonrpc.CodeServerError {
				t.Errorf("%s: %d, WWW-Authenticate %s, code %d; want %d, %s, %d", tt.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), e.Error.Code,
					tt.status, tt.challenge, jsonrpc.CodeServerError)
			}
		})
	}
	// The same tokens, well-formed, pass.
	if r := as.do(t, http.MethodPost, "", initBody("2025-11-25"), bearer(good)...); r.status != 200 {
		t.Errorf("good token: %d %s", r.status, r.body)
	}
	if r := as.do(t, http.MethodPost, "", initBody("2025-11-25"), bearer(is.Mint("ES256", is.Claims("alice", testResource+"/", "mcp")))...); r.status != 200 {
		t.Errorf("ES256, aud with a trailing slash: %d %s", r.status, r.body)
	}
	// Key rotation: a token with a kid the server has not seen makes it
	// refetch the key set.
	kid := is.Rotate("ES256")
	if r := as.do(t, http.MethodPost, "", initBody("2025-11-25"), bearer(is.MintWith(kid, is.Claims("alice", testResource, "mcp")))...); r.status != 200 {
		t.Errorf("token of a rotated key: %d %s", r.status, r.body)
	}
}

// TestAuthPRM: the Protected Resource Metadata at both well-known paths,
// readable from any origin.
func TestAuthPRM(t *testing.T) {
	as := newAuthServer(t)
	base := strings.TrimSuffix(as.url, "/mcp")
	for _, path := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Origin", "https://evil.example") // not allowed on /mcp
		resp, err := as.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var md auth.ResourceMetadata
		err = json.NewDecoder(resp.Body).Decode(&md)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("GET %s: %d, %v, ACAO %q", path, resp.StatusCode, err, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		want := auth.ResourceMetadata{Resource: testResource, AuthorizationServers: []string{as.is.URL}, ScopesSupported: []string{"mcp", "admin"}, BearerMethodsSupported: []string{"header"}}
		if fmt.Sprint(md) != fmt.Sprint(want) {
			t.Errorf("GET %s = %+v, want %+v", path, md, want)
		}
		req, _ = http.NewRequest(http.MethodOptions, base+path, nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, err = as.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("OPTIONS %s: %d, ACAO %q", path, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

// TestAuthSessionBinding: a session is bound to the principal that
// started it; another principal's valid token naming it gets exactly the
// unknown-session 404, on POST, GET and DELETE; a newer token of the
// same principal works.
func TestAuthSessionBinding(t *testing.T) {
	as := newAuthServer(t)
	alice, bob := as.token("alice", "mcp"), as.token("bob", "mcp")
	sid := as.initializeAs(t, alice)
	p := as.state(t, sid).Principal()
	if p == nil || p.Subject != "alice" || p.Issuer != as.is.URL {
		t.Fatalf("session principal = %+v", p)
	}
	if rec := as.h.Sessions().Lookup(sid).Record(); rec.Principal == nil || rec.Principal.Subject != "alice" {
		t.Errorf("session record principal = %+v", rec.Principal)
	}
	notFound := string(refusals[refuseSessionNotFound].body)
	for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
		body := ""
		if method == http.MethodPost {
			body = callBody(1, "whoami", "{}")
		}
		r := as.do(t, method, sid, body, bearer(bob)...)
		if r.status != 404 || string(r.body) != notFound {
			t.Errorf("%s with bob's token on alice's session: %d %s, want 404 %s", method, r.status, r.body, notFound)
		}
	}
	// Another token of alice's, with another scope, is still alice.
	alice2 := as.is.Mint("ES256", as.is.Claims("alice", testResource, "mcp", "extra"))
	r := as.do(t, http.MethodPost, sid, callBody(2, "whoami", "{}"), bearer(alice2)...)
	if r.status != 200 || !strings.Contains(string(r.body), `alice mcp,extra test-client`) {
		t.Errorf("whoami with alice's second token: %d %s", r.status, r.body)
	}
	if r := as.do(t, http.MethodDelete, sid, "", bearer(alice)...); r.status != 204 {
		t.Errorf("DELETE by alice: %d %s", r.status, r.body)
	}
}

// TestAuthToolScopes: a tool declaring Scopes needs them: 403
// insufficient_scope listing every scope the call needs, before it runs.
func TestAuthToolScopes(t *testing.T) {
	as := newAuthServer(t)
	user, admin := as.token("alice", "mcp"), as.token("alice", "mcp", "admin")
	sid := as.initializeAs(t, user)
	r := as.do(t, http.MethodPost, sid, callBody(1, "admin", "{}"), bearer(user)...)
	want := `Bearer resource_metadata="` + testPRM + `", error="insufficient_scope", scope="mcp admin"`
	if r.status != 403 || r.header.Get("WWW-Authenticate") != want {
		t.Errorf("admin tool without admin: %d %q, want 403 %q", r.status, r.header.Get("WWW-Authenticate"), want)
	}
	decodeError(t, r.body)
	if r := as.do(t, http.MethodPost, sid, callBody(2, "admin", "{}"), bearer(admin)...); r.status != 200 || !strings.Contains(string(r.body), "admin ok") {
		t.Errorf("admin tool with admin: %d %s", r.status, r.body)
	}
	if r := as.do(t, http.MethodPost, sid, callBody(3, "echo", `{"message":"hi"}`), bearer(user)...); r.status != 200 {
		t.Errorf("echo: %d %s", r.status, r.body)
	}
	body, hdr := modernCall("admin", "")
	if r := as.do(t, http.MethodPost, "", body, append(hdr, bearer(user)...)...); r.status != 403 || r.header.Get("WWW-Authenticate") != want {
		t.Errorf("2026-07-28 admin without admin: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
}

// TestAuthModern: 2026-07-28 requests are authenticated, their handlers
// see the principal, and a sealed requestState is bound to the principal
// that got it: another's is refused as a tampered one is.
func TestAuthModern(t *testing.T) {
	as := newAuthServer(t)
	alice, bob := as.token("alice", "mcp"), as.token("bob", "mcp")
	body, hdr := modernCall("whoami", "")
	r := as.do(t, http.MethodPost, "", body, append(hdr, bearer(alice)...)...)
	if r.status != 200 || !strings.Contains(string(r.body), "alice mcp") {
		t.Fatalf("whoami: %d %s", r.status, r.body)
	}
	body, hdr = modernCall("ask", "")
	r = as.do(t, http.MethodPost, "", body, append(hdr, bearer(alice)...)...)
	var ir struct {
		Result struct {
			RequestState string `json:"requestState"`
		} `json:"result"`
	}
	if err := json.Unmarshal(r.body, &ir); err != nil || ir.Result.RequestState == "" {
		t.Fatalf("ask: %d %s", r.status, r.body)
	}
	state := `,"inputResponses":{"who":{"action":"decline"}},"requestState":"` + ir.Result.RequestState + `"`
	body, hdr = modernCall("ask", state)
	if r := as.do(t, http.MethodPost, "", body, append(hdr, bearer(alice)...)...); r.status != 200 || !strings.Contains(string(r.body), "state=alice-only") {
		t.Errorf("alice continues: %d %s", r.status, r.body)
	}
	r = as.do(t, http.MethodPost, "", body, append(hdr, bearer(bob)...)...)
	if e := decodeError(t, r.body); r.status != 400 || e.Error.Code != jsonrpc.CodeInvalidParams || !strings.Contains(e.Error.Message, "requestState") {
		t.Errorf("bob continues alice's request: %d %s, want 400 invalid params (requestState)", r.status, r.body)
	}
}

// TestAuthExpiryInSession: a session outlives its token; once the token
// expires (the cache holds it no longer than its exp), requests get 401
// until the client brings a new one.
func TestAuthExpiryInSession(t *testing.T) {
	as := newAuthServer(t)
	c := as.is.Claims("alice", testResource, "mcp")
	c["exp"] = time.Now().Add(2 * time.Second).Unix()
	short := as.is.Mint("RS256", c)
	sid := as.initializeAs(t, short)
	waitFor(t, 10*time.Second, func() error {
		if r := as.do(t, http.MethodPost, sid, callBody(1, "whoami", "{}"), bearer(short)...); r.status != 401 {
			return fmt.Errorf("status %d while the token is valid", r.status)
		}
		return nil
	})
	if r := as.do(t, http.MethodPost, sid, callBody(2, "whoami", "{}"), bearer(as.token("alice", "mcp"))...); r.status != 200 {
		t.Errorf("a fresh token of alice's in the same session: %d %s", r.status, r.body)
	}
}

// TestAuthOff: without Options.Auth nothing is served at the well-known
// path and requests need no token.
func TestAuthOff(t *testing.T) {
	ts := newTestServer(t, nil)
	base := strings.TrimSuffix(ts.url, "/mcp")
	resp, err := ts.client.Get(base + auth.WellKnownPRM)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("PRM with auth off: %d, want 404", resp.StatusCode)
	}
	if sid := ts.initialize(t, "2025-11-25"); ts.state(t, sid).Principal() != nil {
		t.Error("a principal without auth")
	}
	if !slices.Equal(ts.h.Options().AllowedOrigins, DefaultAllowedOrigins) && ts.h.auth != nil {
		t.Error("auth state with auth off")
	}
}
