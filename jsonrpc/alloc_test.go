//go:build !race

package jsonrpc

import "testing"

// TestDecodeAllocs holds the allocations of decoding one message (not a
// batch): the Message and the slice that holds it take one allocation
// together, and the envelope Decode reads into is pooled; what remains is
// what goccy/go-json allocates for the members the Message keeps.
func TestDecodeAllocs(t *testing.T) {
	for _, c := range []struct {
		body string
		max  float64
	}{
		{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, 6},
		{`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}`, 8},
	} {
		b := []byte(c.body)
		if _, _, err := Decode(b); err != nil {
			t.Fatalf("Decode(%s): %v", c.body, err)
		}
		if n := testing.AllocsPerRun(100, func() { _, _, _ = Decode(b) }); n > c.max {
			t.Errorf("Decode(%s): got %v allocs/op, want at most %v", c.body, n, c.max)
		}
	}
}
