//go:build !race

package mcp

import "testing"

// TestValidJSONAllocs holds validJSON (a schema's fast path over text)
// and scanCallParams (a tools/call's params without _meta) to no
// allocations, as their docs say.
func TestValidJSONAllocs(t *testing.T) {
	fast := compileSimple([]byte(`{"type":"object","properties":{"message":{"type":"string","maxLength":100},"n":{"type":"integer","minimum":0},"tags":{"type":"array","items":{"type":"string"}}},"required":["message"]}`))
	args := []byte(`{"message":"h\u00e9llo\n","n":3,"tags":["a","b"],"other":{"x":[null,true]}}`)
	params := []byte(`{"name":"echo","arguments":{"message":"hello"}}`)
	for _, c := range []struct {
		name string
		f    func() bool
	}{
		{"validJSON", func() bool { return fast.validJSON(args) }},
		{"scanCallParams", func() bool { var p CallToolParams; return scanCallParams(params, &p) }},
	} {
		if !c.f() {
			t.Fatalf("%s refused", c.name)
		}
		if n := testing.AllocsPerRun(100, func() { c.f() }); n != 0 {
			t.Errorf("%s: got %v allocs/op, want 0", c.name, n)
		}
	}
}
