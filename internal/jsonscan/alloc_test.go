//go:build !race

package jsonscan_test

import (
	"testing"

	"github.com/mcpfiber/mcpfiber/internal/jsonscan"
)

// TestSkipAllocs holds Skip to the package doc: a Scanner does not
// allocate, nested objects and arrays included (their callbacks stay on
// the stack).
func TestSkipAllocs(t *testing.T) {
	b := []byte(`{"a":1,"b":[1,2,{"c":null,"d":"\u00e9\n"}],"e":{"f":{"g":[true,false,-1.5e3]}}}`)
	if n := testing.AllocsPerRun(100, func() {
		sc := jsonscan.Scanner{B: b}
		if !sc.Skip(0) || !sc.AtEnd() {
			t.Fatal("Skip refused")
		}
	}); n != 0 {
		t.Errorf("Skip: got %v allocs/op, want 0", n)
	}
}
