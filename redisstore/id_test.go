package redisstore

import (
	"strings"
	"testing"
)

// testIDs returns an ID scheme keyed by a fixed secret, with no Redis.
func testIDs(t testing.TB, seed byte) *ids {
	t.Helper()
	secret := make([]byte, secretLen)
	for i := range secret {
		secret[i] = seed + byte(i)
	}
	idKey, _, err := deriveKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	g, err := newIDs(idKey)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestValidID(t *testing.T) {
	g := testIDs(t, 1)
	id := g.newID()
	if len(id) != IDLen || strings.Trim(id, "0123456789abcdef") != "" {
		t.Fatalf("newID() = %q, want %d lowercase hex digits", id, IDLen)
	}
	if !g.valid(id) {
		t.Fatalf("valid(%q) = false", id)
	}
	if g.newID() == id {
		t.Fatal("two newIDs are equal")
	}
	flip := func(i int) string {
		b := []byte(id)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		return string(b)
	}
	bad := map[string]string{
		"empty":                "",
		"short":                id[:IDLen-1],
		"long":                 id + "0",
		"uppercase":            strings.ToUpper(id),
		"not hex":              "g" + id[1:],
		"zeros":                strings.Repeat("0", IDLen),
		"random part tampered": flip(3),
		"tag tampered":         flip(IDLen - 1),
		"another key's ID":     testIDs(t, 2).newID(),
		"a plain 32-digit ID":  "0123456789abcdef0123456789abcdef",
		"non-ASCII":            id[:IDLen-2] + "é",
	}
	for name, s := range bad {
		if g.valid(s) {
			t.Errorf("%s: valid(%q) = true", name, s)
		}
	}
}

// FuzzValidID checks that valid never panics and accepts only IDs newID
// made: a fuzzer finding a 64-bit tag by chance would be a broken PRF.
func FuzzValidID(f *testing.F) {
	g := testIDs(f, 1)
	id := g.makeID(&[randLen]byte{1, 2, 3}) // the same in every fuzzing process
	f.Add(id)
	f.Add(strings.ToUpper(id))
	f.Add(id[:IDLen-1] + "x")
	f.Add(strings.Repeat("f", IDLen))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if g.valid(s) && s != id {
			t.Fatalf("valid(%q) = true for an ID newID did not make", s)
		}
	})
}

func BenchmarkValidID(b *testing.B) {
	g := testIDs(b, 1)
	id := g.newID()
	b.ReportAllocs()
	for b.Loop() {
		if !g.valid(id) {
			b.Fatal("valid = false")
		}
	}
}

func BenchmarkNewID(b *testing.B) {
	g := testIDs(b, 1)
	b.ReportAllocs()
	for b.Loop() {
		_ = g.newID()
	}
}
