package mcp

import (
	"strings"
	"testing"
	"time"
)

// TestSealerExpiry checks that a sealed requestState is accepted until its
// TTL and refused after, with a clock the test moves.
func TestSealerExpiry(t *testing.T) {
	s, err := newSealer(nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return now }
	sealed := s.seal("tools/call\x00t", "state")
	now = now.Add(59 * time.Second)
	if got, err := s.open("tools/call\x00t", sealed); err != nil || got != "state" {
		t.Fatalf("before expiry: %q, %v", got, err)
	}
	now = now.Add(2 * time.Second)
	if _, err := s.open("tools/call\x00t", sealed); err != errStateExpired {
		t.Fatalf("after expiry: %v, want errStateExpired", err)
	}
}

// TestSealerKeys checks that state sealed with one key is refused by
// another, and that keys of the wrong size are refused.
func TestSealerKeys(t *testing.T) {
	a, _ := newSealer([]byte(strings.Repeat("a", StateKeySize)), time.Minute)
	b, _ := newSealer([]byte(strings.Repeat("b", StateKeySize)), time.Minute)
	sealed := a.seal("m\x00n", "x")
	if _, err := b.open("m\x00n", sealed); err != errStateInvalid {
		t.Errorf("other key: %v, want errStateInvalid", err)
	}
	if got, err := a.open("m\x00n", sealed); err != nil || got != "x" {
		t.Errorf("same key: %q, %v", got, err)
	}
	if _, err := newSealer([]byte("short"), time.Minute); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}

// FuzzOpenState feeds client-controlled requestState to the sealer: it
// must refuse it without panicking, unless it is the sealed value itself.
func FuzzOpenState(f *testing.F) {
	s, _ := newSealer(nil, time.Minute)
	good := s.seal("tools/call\x00t", "state")
	f.Add(good)
	f.Add(good + "-TAMPERED")
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := s.open("tools/call\x00t", in)
		if err == nil && (in != good || got != "state") {
			t.Fatalf("accepted %q as %q", in, got)
		}
	})
}

// FuzzDecodeHeaderValue feeds header values to decodeHeaderValue: it must
// not panic, and a plain value it accepts is printable ASCII.
func FuzzDecodeHeaderValue(f *testing.F) {
	for _, s := range []string{"tools/call", "  x  ", "=?base64?SGVsbG8=?=", "=?base64?SGVsbG8?=", "=?base64?SGVs!!!bG8=?=", "=?base64?", "\x00", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		v, err := decodeHeaderValue(in)
		if err != nil || strings.HasPrefix(trimOWS(in), "=?base64?") {
			return
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; (c < 0x20 && c != '\t') || c > 0x7e {
				t.Fatalf("accepted %q with byte %#x", in, c)
			}
		}
	})
}

// FuzzParseRequestMeta feeds params to parseRequestMeta: no panic, and an
// accepted _meta has a protocol version.
func FuzzParseRequestMeta(f *testing.F) {
	for _, s := range []string{
		`{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}`,
		`{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/logLevel":"info","io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}}}`,
		`{}`, `[]`, `null`, `{"_meta":null}`, `{"_meta":{"io.modelcontextprotocol/protocolVersion":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := parseRequestMeta(in)
		if err == nil && m.version == "" {
			t.Fatalf("accepted %q without a version", in)
		}
	})
}
