package auth_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mcpfiber/mcpfiber/auth"
)

// bearerRE is RFC 6750 §2.1's credentials, as a reference for
// ParseBearer (surrounding spaces allowed, as fasthttp may leave them).
var bearerRE = regexp.MustCompile(`^[ \t]*(?i:bearer) +([A-Za-z0-9\-._~+/]+=*)[ \t]*$`)

// FuzzParseBearer checks ParseBearer against the grammar and that an
// accepted header parses without allocating.
func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer a.b.c", "Basic x", "Bearer  x==", "Bearer a=b", "", "Bearer\tx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok := auth.ParseBearer([]byte(h))
		m := bearerRE.FindStringSubmatch(h)
		if ok != (m != nil) {
			t.Fatalf("ParseBearer(%q) ok = %v, reference %v", h, ok, m != nil)
		}
		if ok && string(tok) != m[1] {
			t.Fatalf("ParseBearer(%q) = %q, reference %q", h, tok, m[1])
		}
		if ok {
			b := []byte(h)
			if n := testing.AllocsPerRun(10, func() { auth.ParseBearer(b) }); n != 0 {
				t.Fatalf("ParseBearer(%q): %v allocs", h, n)
			}
		}
	})
}

// parseChallenge parses a Bearer challenge's auth-params (RFC 9110
// §11.2: name="quoted-string" separated by commas) the way a client
// does, for the round trip of FuzzAppendChallenge.
func parseChallenge(t *testing.T, s string) map[string]string {
	rest, ok := strings.CutPrefix(s, "Bearer")
	if !ok {
		t.Fatalf("%q: no Bearer scheme", s)
	}
	out := map[string]string{}
	for rest = strings.TrimLeft(rest, " "); rest != ""; {
		eq := strings.Index(rest, `="`)
		if eq <= 0 {
			t.Fatalf("%q: bad param at %q", s, rest)
		}
		name := rest[:eq]
		rest = rest[eq+2:]
		var v strings.Builder
		for {
			if rest == "" {
				t.Fatalf("%q: unterminated quoted-string", s)
			}
			c := rest[0]
			rest = rest[1:]
			if c == '"' {
				break
			}
			if c == '\\' {
				c, rest = rest[0], rest[1:]
			} else if c < 0x20 && c != '\t' || c == 0x7f {
				t.Fatalf("%q: control byte in a quoted-string", s)
			}
			v.WriteByte(c)
		}
		if _, dup := out[name]; dup {
			t.Fatalf("%q: %s twice", s, name)
		}
		out[name] = v.String()
		if rest == "" {
			break
		}
		if !strings.HasPrefix(rest, ", ") {
			t.Fatalf("%q: want \", \" between params, got %q", s, rest)
		}
		rest = rest[2:]
	}
	return out
}

// FuzzAppendChallenge checks that what AppendChallenge writes parses
// back to its inputs (control bytes dropped, duplicate and empty scopes
// dropped).
func FuzzAppendChallenge(f *testing.F) {
	f.Add("https://x/.well-known/oauth-protected-resource/mcp", "invalid_token", "a b")
	f.Add("", "", "")
	f.Add(`q"\`, "insufficient_scope", `x"y z\`)
	f.Fuzz(func(t *testing.T, md, code, scopeList string) {
		scopes := strings.Split(scopeList, " ")
		got := parseChallenge(t, string(auth.AppendChallenge(nil, md, code, scopes)))
		clean := func(s string) string {
			var b []byte
			for i := 0; i < len(s); i++ {
				if c := s[i]; c >= 0x20 && c != 0x7f || c == '\t' {
					b = append(b, c)
				}
			}
			return string(b)
		}
		if md != "" && got["resource_metadata"] != clean(md) {
			t.Fatalf("resource_metadata = %q, want %q", got["resource_metadata"], clean(md))
		}
		if code != "" && got["error"] != clean(code) {
			t.Fatalf("error = %q, want %q", got["error"], clean(code))
		}
		var want []string
		for _, s := range scopes {
			if s != "" && !contains(want, s) {
				want = append(want, clean(s))
			}
		}
		if strings.Join(want, " ") != got["scope"] && !(len(want) == 0 && got["scope"] == "") {
			t.Fatalf("scope = %q, want %q", got["scope"], strings.Join(want, " "))
		}
	})
}

func contains(ss []string, s string) bool {
	return slices.Contains(ss, s)
}
