package jsonscan_test

import (
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
