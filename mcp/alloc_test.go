//go:build !race

package mcp_test

import (
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
