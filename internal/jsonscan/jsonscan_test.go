package jsonscan_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/mcpfiber/mcpfiber/internal/jsonscan"
	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

var seeds = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e3`, `-12.25E-2`, `"x"`,
	`{"a":1,"b":[1,2,{"c":null}],"d":"\u00e9\n\"\\"}`,
	`{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"\u0061":1,"a":2}`, `"\ud83d\ude00"`, `"\ud800"`,
	"\"a\xffb\"", "\"\x01\"", `{"a":}`, `[1,]`, `{"a":1,}`, `01`, `1.`, `.5`, `1e`, `-`, `tru`, `nul`,
	`1e400`, ` { "a" : [ 1 , 2 ] } `, `{"message":"hello"}`, `[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]`,
	`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10}`,
	`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"a":10}`,
	`"The quick brown fox jumps over the lazy dog: \"h\u00e9llo\" w\u00f6rld, caf\u00e9 naïve\n"`,
	"\"0123456\x00\"", "\"0123456789abcde\x7f\"", `"0123456789abcdef`, `123456789012345`, `-1234567890123456`, `1234567890123456e-5`,
}

// FuzzScanner: what Skip accepts as a whole text, jsonrpc.Unmarshal
// decodes (so it is JSON, UTF-8, without duplicate names), and a string
// the scanner reads unquotes as Unmarshal decodes it.
//
//	go test ./internal/jsonscan -run='^$' -fuzz='^FuzzScanner$' -fuzztime=20s
func FuzzScanner(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sc := jsonscan.Scanner{B: b}
		if !sc.Skip(0) || !sc.AtEnd() {
			return
		}
		var v any
		if err := jsonrpc.Unmarshal(b, &v); err != nil {
			t.Fatalf("Skip accepts %q, Unmarshal: %v", b, err)
		}
		if s, ok := v.(string); ok {
			sc := jsonscan.Scanner{B: b}
			raw, _, _ := sc.String()
			if got := jsonscan.Unquote(raw); got != s {
				t.Fatalf("jsonscan.Unquote(%q) = %q, Unmarshal: %q", raw, got, s)
			}
			if got, want := jsonscan.RuneCount(raw), len([]rune(s)); got != want {
				t.Fatalf("RuneCount(%q) = %d, want %d", raw, got, want)
			}
		}
	})
}

func TestScanner(t *testing.T) {
	for _, s := range seeds {
		sc := jsonscan.Scanner{B: []byte(s)}
		got := sc.Skip(0) && sc.AtEnd()
		var v any
		want := jsonrpc.Unmarshal([]byte(s), &v) == nil
		if got && !want {
			t.Errorf("%q: scanner accepts, Unmarshal refuses", s)
		}
		if !got && want && s != `"\ud83d\ude00"` && s != `{"\u0061":1,"a":2}` && s != `1e400` {
			t.Errorf("%q: scanner unsure, Unmarshal accepts", s)
		}
	}
}

// TestNumber: Number's value is ParseFloat's, integers read without it
// included.
func TestNumber(t *testing.T) {
	for _, s := range []string{"0", "-0", "7", "-42", "123456789012345", "-999999999999999", "1234567890123456", "12345678901234567890", "1.5", "-0.0", "2e3"} {
		sc := jsonscan.Scanner{B: []byte(s)}
		raw, f, ok := sc.Number()
		want, err := strconv.ParseFloat(s, 64)
		if !ok || err != nil || string(raw) != s || math.Float64bits(f) != math.Float64bits(want) || !sc.AtEnd() {
			t.Errorf("Number(%q) = %q, %v, %v; ParseFloat: %v, %v", s, raw, f, ok, want, err)
		}
	}
}
