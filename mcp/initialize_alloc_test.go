//go:build !race

package mcp

import (
	"context"
	"testing"

	json "github.com/goccy/go-json"
)

// TestInitResultAllocs checks that the encoded initialize result is made
// once per version and set of declared capabilities (initResultFor does
// not allocate once it is cached), that the cache follows a capability
// declared later, and that decodeClientCaps does not allocate for the
// common {}.
func TestInitResultAllocs(t *testing.T) {
	s := NewServer(Implementation{Name: "t", Version: "1"}, nil)
	for _, v := range LegacyVersions {
		first, jerr := s.initResultFor(v)
		if jerr != nil {
			t.Fatalf("%s: %v", v, jerr)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = s.initResultFor(v) }); n != 0 {
			t.Errorf("initResultFor(%s), cached: got %v allocs/op, want 0", v, n)
		}
		if again, _ := s.initResultFor(v); &again[0] != &first[0] {
			t.Errorf("initResultFor(%s): not the cached result", v)
		}
	}
	var before InitializeResult
	b, _ := s.initResultFor(Version20251125)
	if err := json.Unmarshal(b, &before); err != nil || before.Capabilities.Tools != nil {
		t.Fatalf("before a tool: %s (%v), want no tools capability", b, err)
	}
	s.AddTool(&Tool{Name: "t", InputSchema: json.RawMessage(`{"type":"object"}`)}, func(context.Context, *CallToolRequest) (*CallToolResult, error) {
		return &CallToolResult{}, nil
	})
	var after InitializeResult
	b, _ = s.initResultFor(Version20251125)
	if err := json.Unmarshal(b, &after); err != nil || after.Capabilities.Tools == nil || after.ProtocolVersion != Version20251125 {
		t.Fatalf("after a tool: %s (%v), want the tools capability and version %s", b, err, Version20251125)
	}
	for _, raw := range []json.RawMessage{nil, json.RawMessage("{}")} {
		if n := testing.AllocsPerRun(100, func() { _ = decodeClientCaps(raw) }); n != 0 {
			t.Errorf("decodeClientCaps(%q): got %v allocs/op, want 0", raw, n)
		}
	}
	if c := decodeClientCaps(json.RawMessage(`{"roots":{"listChanged":true}}`)); !declared(c.Roots) {
		t.Errorf("decodeClientCaps: roots not declared")
	}
}

// TestOnCloseAllocs checks that the two OnClose functions of a Server's
// session (the Server's and the transport's) take no allocation of their
// own: they fit in the state's inline array.
func TestOnCloseAllocs(t *testing.T) {
	f := func() {}
	base := testing.AllocsPerRun(100, func() { NewSessionState(Version20251125, nil, ClientCapabilities{}) })
	n := testing.AllocsPerRun(100, func() {
		st := NewSessionState(Version20251125, nil, ClientCapabilities{})
		st.OnClose(f)
		st.OnClose(f)
	})
	if n != base {
		t.Errorf("NewSessionState and two OnClose: got %v allocs/op, want %v (NewSessionState alone)", n, base)
	}
	ran := 0
	st := NewSessionState(Version20251125, nil, ClientCapabilities{})
	for range 3 { // past the inline array
		st.OnClose(func() { ran++ })
	}
	st.Close()
	st.Close()
	if ran != 3 {
		t.Errorf("OnClose functions ran %d times, want 3", ran)
	}
}
