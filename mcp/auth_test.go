package mcp_test

import (
	"context"
	"slices"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// TestRequiredScopes: the scopes of the tool, prompt or resource a
// request names; nil for others and for unknown names.
func TestRequiredScopes(t *testing.T) {
	s := mcp.NewServer(mcp.Implementation{Name: "t", Version: "1"}, nil)
	if got := s.RequiredScopes("tools/call", json.RawMessage(`{"name":"x"}`)); got != nil {
		t.Errorf("nothing scoped: %q", got)
	}
	obj := json.RawMessage(`{"type":"object"}`)
	s.AddTool(&mcp.Tool{Name: "open", InputSchema: obj}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return nil, nil })
	s.AddTool(&mcp.Tool{Name: "admin", InputSchema: obj, Scopes: []string{"admin"}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return nil, nil })
	s.AddPrompt(&mcp.Prompt{Name: "p", Scopes: []string{"prompts"}}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) { return nil, nil })
	s.AddResource(&mcp.Resource{URI: "test://r", Name: "r", Scopes: []string{"files:read"}}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) { return nil, nil })
	for _, c := range []struct {
		method, params string
		want           []string
	}{
		{"tools/call", `{"name":"admin","arguments":{}}`, []string{"admin"}},
		{"tools/call", `{"name":"open"}`, nil},
		{"tools/call", `{"name":"nope"}`, nil},
		{"tools/call", `not json`, nil},
		{"prompts/get", `{"name":"p"}`, []string{"prompts"}},
		{"resources/read", `{"uri":"test://r"}`, []string{"files:read"}},
		{"tools/list", `{}`, nil},
	} {
		if got := s.RequiredScopes(c.method, json.RawMessage(c.params)); !slices.Equal(got, c.want) {
			t.Errorf("RequiredScopes(%s, %s) = %q, want %q", c.method, c.params, got, c.want)
		}
	}
	// Scopes are not sent to clients.
	b, _ := json.Marshal(&mcp.Tool{Name: "admin", InputSchema: obj, Scopes: []string{"admin"}})
	if string(b) != `{"name":"admin","inputSchema":{"type":"object"}}` {
		t.Errorf("a tool with Scopes encodes as %s", b)
	}
}

func TestPrincipal(t *testing.T) {
	a := &mcp.Principal{Issuer: "i", Subject: "alice", Scopes: []string{"x", "y"}}
	a2 := &mcp.Principal{Issuer: "i", Subject: "alice"}
	b := &mcp.Principal{Issuer: "j", Subject: "alice"}
	if !a.Same(a2) || a.Same(b) || a.Same(nil) || (*mcp.Principal)(nil).Same(a) || !(*mcp.Principal)(nil).Same(nil) {
		t.Error("Same compares issuer and subject, nil only equal to nil")
	}
	if !a.HasScopes([]string{"y", "x"}) || a.HasScopes([]string{"z"}) || (*mcp.Principal)(nil).HasScope("x") {
		t.Error("HasScopes")
	}
	r := mcp.SessionRecord{ProtocolVersion: "2025-11-25", Principal: &mcp.Principal{Issuer: "i", Subject: "s", Claims: json.RawMessage(`{"sub":"s","tenant":"t1"}`)}}
	data, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back mcp.SessionRecord
	if err := back.UnmarshalBinary(data); err != nil || !back.Principal.Same(r.Principal) || string(back.Principal.Claims) != `{"sub":"s","tenant":"t1"}` {
		t.Errorf("record round trip: %+v, %v", back.Principal, err)
	}
	st := mcp.RestoreSessionState(&back)
	if !st.Principal().Same(r.Principal) {
		t.Error("RestoreSessionState lost the principal")
	}
	st2 := mcp.NewSessionState("2025-11-25", nil, mcp.ClientCapabilities{})
	st2.SetPrincipal(a)
	if st2.Principal() != a || st2.Record().Principal != a {
		t.Error("SetPrincipal")
	}
}
