package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAuthFlagErrors: the --auth-* flags fail clearly, naming the flag,
// from the command line and from MCPFIBER_AUTH_* alike.
func TestAuthFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--auth-issuer", "https://as.example.com"}, nil, "--auth-resource is required with --auth-issuer"},
		{nil, map[string]string{"MCPFIBER_AUTH_ISSUER": "https://as.example.com"}, "--auth-resource is required with --auth-issuer"},
		{[]string{"--auth-resource", "https://mcp.example.com/mcp"}, nil, "need --auth-issuer"},
		{[]string{"--auth-issuer", "http://as.example.com", "--auth-resource", "https://mcp.example.com/mcp"}, nil, "--auth-issuer: "},
		{[]string{"--auth-issuer", "https://as.example.com", "--auth-resource", "mcp"}, nil, "--auth-resource: "},
		{[]string{"--auth-issuer", "https://as.example.com", "--auth-resource", "https://mcp.example.com/mcp", "--auth-client-id", "x"}, nil, "--auth-introspection-url"},
		{[]string{"--auth-issuer", "https://as.example.com", "--auth-resource", "https://mcp.example.com/mcp", "--auth-jwks-url", "http://keys.example.com"}, nil, "--auth-jwks-url: "},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			if err := run(c.args); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", c.args, err, c.want)
			}
		})
	}
}

// TestREADMEFlags checks that every flag --help lists has a row in the
// README's flag tables, and that every flag the README's tables name is
// one --help lists.
func TestREADMEFlags(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	runErr := run([]string{"-h"})
	os.Stderr = stderr
	w.Close()
	help, _ := io.ReadAll(r)
	if !errors.Is(runErr, flag.ErrHelp) {
		t.Fatalf("run(-h) = %v, want flag.ErrHelp", runErr)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(string(help), -1) {
		flags[m[1]] = true
		if !strings.Contains(string(readme), "`--"+m[1]+"`") {
			t.Errorf("--%s is in --help but not in README.md", m[1])
		}
	}
	if len(flags) < 20 {
		t.Fatalf("only %d flags found in --help:\n%s", len(flags), help)
	}
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z0-9-]+)`").FindAllStringSubmatch(string(readme), -1) {
		if !flags[m[1]] {
			t.Errorf("README.md has a row for --%s, which --help does not list", m[1])
		}
	}
}
