//go:build !race

package mcp_test

import (
	"context"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// TestInlineAllocs checks that the per-request method lookups do not
// allocate: Inline, InlineStateless, and Conn.Handle for ping.
func TestInlineAllocs(t *testing.T) {
	s, conn := methodsSession(t, true)
	ping := &mcp.Call{Session: conn.State(), Method: mcp.MethodPing, ID: json.RawMessage(`1`)}
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"Inline", func() { s.Inline(mcp.MethodToolsCall); s.Inline("nope") }},
		{"InlineStateless", func() { s.InlineStateless(mcp.MethodToolsList); s.InlineStateless("nope") }},
		{"Handle(ping)", func() { conn.Handle(ping) }},
	} {
		c.f()
		if n := testing.AllocsPerRun(100, c.f); n != 0 {
			t.Errorf("%s: got %v allocs/op, want 0", c.name, n)
		}
	}
}

// TestTypedToolAllocs holds a typed tool's call (mcp.AddTool: arguments
// decoded into In, Out encoded as structured content with a text copy) to
// at most two allocations more than the hand-written echo's (decode,
// answer): the encoded Out and the holder of the structured content and
// its text block, as the AddTool doc says.
func TestTypedToolAllocs(t *testing.T) {
	conn := toolSession(t, func(s *mcp.Server) {
		s.AddTool(&mcp.Tool{Name: "raw", InputSchema: echoSchema}, rawEcho)
		mcp.AddTool(s, &mcp.Tool{Name: "typed"}, func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
			return nil, echoOut(in), nil
		})
	})
	allocs := map[string]float64{}
	for _, tool := range []string{"raw", "typed"} {
		call := &mcp.Call{Session: conn.State(), Method: "tools/call", ID: json.RawMessage(`1`),
			Params: json.RawMessage(`{"name":"` + tool + `","arguments":{"message":"hello"}}`), Out: discard{}}
		conn.Handle(call)
		allocs[tool] = testing.AllocsPerRun(200, func() { conn.Handle(call) })
	}
	t.Logf("allocs/op: raw %v, typed %v", allocs["raw"], allocs["typed"])
	if allocs["typed"] > allocs["raw"]+2 {
		t.Errorf("typed echo: %v allocs/op, raw echo %v; want at most 2 more", allocs["typed"], allocs["raw"])
	}
}

// TestInlineCallAllocs: InlineCall, which the transport asks for every
// request that is not inline by its method, does not allocate.
func TestInlineCallAllocs(t *testing.T) {
	s := inlineServer()
	defer s.Close()
	fast, slow := []byte(`{"name":"fast","arguments":{"message":"hello"}}`), []byte(`{"name":"slow","arguments":{}}`)
	f := func() {
		if !s.InlineCall(mcp.MethodToolsCall, fast) || s.InlineCall(mcp.MethodToolsCall, slow) || s.InlineCall("nope", fast) {
			t.Fatal("InlineCall answered wrong")
		}
	}
	if n := testing.AllocsPerRun(100, f); n != 0 {
		t.Errorf("InlineCall: got %v allocs/op, want 0", n)
	}
}

// TestTextResultAllocs: TextResult is one allocation.
func TestTextResultAllocs(t *testing.T) {
	var r *mcp.CallToolResult
	if n := testing.AllocsPerRun(100, func() { r = mcp.TextResult("x") }); n != 1 || r.Content[0].Text != "x" {
		t.Errorf("TextResult: got %v allocs/op, want 1", n)
	}
}

// TestStringArgumentAllocs: a string argument without escapes shares the
// arguments' memory; only an escaped one is copied.
func TestStringArgumentAllocs(t *testing.T) {
	p := &mcp.CallToolParams{Arguments: json.RawMessage(`{"n":1,"message":"hello"}`)}
	var got string
	if n := testing.AllocsPerRun(100, func() { got, _ = p.StringArgument("message") }); n != 0 || got != "hello" {
		t.Errorf("StringArgument: %q, %v allocs/op, want hello and 0", got, n)
	}
	p.Arguments = json.RawMessage(`{"message":"a\nb"}`)
	if got, ok := p.StringArgument("message"); !ok || got != "a\nb" {
		t.Errorf("StringArgument of an escaped string: %q, %v", got, ok)
	}
}
