package bridge

import (
	"slices"
	"testing"
)

func TestParseCommand(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"npx -y @modelcontextprotocol/server-everything", []string{"npx", "-y", "@modelcontextprotocol/server-everything"}},
		{"  uvx   mcp-server-time\t--local-timezone=UTC \n", []string{"uvx", "mcp-server-time", "--local-timezone=UTC"}},
		{`node "my server.js" 'it''s' a\ b ""`, []string{"node", "my server.js", "its", "a b", ""}},
		{`sh -c 'echo "$HOME"'`, []string{"sh", "-c", `echo "$HOME"`}},
		{`x "a\"b\\c\d"`, []string{"x", `a"b\c\d`}},
		{`["npx", "-y", "a b"]`, []string{"npx", "-y", "a b"}},
	} {
		got, err := ParseCommand(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseCommand(%q) = %q, %v, want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "   ", `a "b`, `a 'b`, `a\`, `[]`, `[1, 2]`, `["", "x"]`, `[`, `''`} {
		if got, err := ParseCommand(in); err == nil {
			t.Errorf("ParseCommand(%q) = %q, nil, want an error", in, got)
		}
	}
}
