package mcp

import (
	"strings"
	"testing"

	json "github.com/goccy/go-json"
)

// TestCompileToolSchemas checks that schemas that do not compile are
// reported, input and output alike, and that draft-07 and 2020-12 do.
func TestCompileToolSchemas(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		want    string // "" compiles
	}{
		{`{"type":"object"}`, ``, ""},
		{`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","$defs":{"a":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/a"}}}`, `{"type":"object"}`, ""},
		{`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","definitions":{"a":{"type":"string"}},"properties":{"a":{"$ref":"#/definitions/a"}}}`, ``, ""},
		{`{"type":"object","properties":{"a":{"$ref":"#/$defs/missing"}}}`, ``, "inputSchema"},
		{`{"type":"object","properties":{"a":{"type":"string","pattern":"("}}}`, ``, "inputSchema"},
		{`{"type":"object"}`, `{"type":"object","minProperties":"one"}`, "outputSchema"},
		{`{"type":"object"}`, `{"type":"object","required":[1]}`, "outputSchema"},
	} {
		_, err := compileToolSchemas(&Tool{Name: "t", InputSchema: json.RawMessage(tc.in), OutputSchema: json.RawMessage(tc.out)})
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
			t.Errorf("compileToolSchemas(%s, %s) = %v, want %q", tc.in, tc.out, err, tc.want)
		}
	}
}
