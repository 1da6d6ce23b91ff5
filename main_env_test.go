package main

import (
	"strings"
	"testing"
)

// TestRunEnvErrors checks that an environment variable that does not parse
// is named with its value, and that a flag on the command line still wins
// over a bad variable.
func TestRunEnvErrors(t *testing.T) {
	for _, c := range []struct {
		key, value string
		want       string
	}{
		{"MCPFIBER_MAX_SESSIONS", "abc", "MCPFIBER_MAX_SESSIONS=abc: want an integer (--max-sessions)"},
		{"MCPFIBER_MAX_SESSIONS", "99999999999999999999", "MCPFIBER_MAX_SESSIONS=99999999999999999999: out of range"},
		{"MCPFIBER_SESSION_IDLE_TIMEOUT", "10", "MCPFIBER_SESSION_IDLE_TIMEOUT=10: want a duration"},
		{"MCPFIBER_JSON_RESPONSE", "yes", "MCPFIBER_JSON_RESPONSE=yes: want true or false (--json-response)"},
	} {
		t.Run(c.key+"="+c.value, func(t *testing.T) {
			t.Setenv(c.key, c.value)
			if err := run(nil); err == nil || err.Error() != c.want && !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("run() = %v, want %q…", err, c.want)
			}
		})
	}
	t.Run("flag wins", func(t *testing.T) {
		t.Setenv("MCPFIBER_MAX_SESSIONS", "abc")
		t.Setenv("MCPFIBER_JSON_RESPONSE", "yes")
		if err := run([]string{"--json-response", "--max-sessions=5", "--version"}); err != nil {
			t.Errorf("run with the flags given = %v, want nil", err)
		}
	})
	t.Run("command line error unchanged", func(t *testing.T) {
		t.Setenv("MCPFIBER_JSON_RESPONSE", "yes")
		err := run([]string{"--max-sessions", "abc"})
		if err == nil || !strings.Contains(err.Error(), `invalid value "abc" for flag -max-sessions`) {
			t.Errorf("run(--max-sessions abc) = %v, want the flag package's error", err)
		}
	})
}
