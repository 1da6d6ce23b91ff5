package main

import (
	"strings"
	"testing"
)

// TestRunFlagErrors checks the flag combinations run refuses before it
// listens: the stdio command forms, and TLS files that go together.
func TestRunFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--stdio"}, "--stdio needs the command after --"},
		{[]string{"--stdio-command", `npx "unterminated`}, "--stdio-command: bridge: unterminated quote"},
		{[]string{"--stdio-command", "npx x", "--", "uvx", "y"}, "not both"},
		{[]string{"npx", "-y", "pkg"}, `unexpected arguments ["npx" "-y" "pkg"]`},
		{[]string{"--tls-cert", "cert.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-key", "key.pem"}, "--tls-cert and --tls-key go together"},
	} {
		err := run(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", c.args, err, c.want)
		}
	}
}
