package mcp

import (
	"strings"
	"testing"

	json "github.com/goccy/go-json"
)

// TestLocate checks the failing value named for schemas beyond the
// shapes of TestValidationPaths: draft-07 (definitions, items as an
// array, additionalItems), a root $id, $ref to the root, anyOf, and
// unevaluatedProperties. The keyword's own message comes from
// jsonschema-go; at and the schema location are ours.
func TestLocate(t *testing.T) {
	for _, tc := range []struct {
		schema, inst string
		at, schemaAt string
	}{
		{`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","definitions":{"n":{"type":"integer"}},` +
			`"properties":{"t":{"type":"array","items":[{"type":"string"},{"$ref":"#/definitions/n"}],"additionalItems":{"type":"boolean"}}}}`,
			`{"t":["a",1,true,3]}`, "/t/3", "/properties/t/additionalItems"},
		{`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","definitions":{"n":{"type":"integer"}},` +
			`"properties":{"t":{"type":"array","items":[{"type":"string"},{"$ref":"#/definitions/n"}]}}}`,
			`{"t":["a","b"]}`, "/t/1", "/definitions/n"},
		{`{"$id":"https://example.com/tool","type":"object","$defs":{"leaf":{"type":"string"}},` +
			`"properties":{"list":{"type":"array","items":{"$ref":"#/$defs/leaf"}}}}`,
			`{"list":["a","b",3]}`, "/list/2", "/$defs/leaf"},
		{`{"type":"object","properties":{"name":{"type":"string"},"kids":{"type":"array","items":{"$ref":"#"}}}}`,
			`{"kids":[{"name":"a"},{"kids":[{"name":1}]}]}`, "/kids/1/kids/0/name", "/properties/name"},
		{`{"type":"object","properties":{"v":{"anyOf":[{"type":"string"},{"type":"integer"}]}}}`,
			`{"v":true}`, "/v", "/properties/v"},
		{`{"type":"object","properties":{"a":{"type":"string"}},"unevaluatedProperties":{"type":"integer"}}`,
			`{"a":"x","b":1,"c":"no"}`, "/c", "/unevaluatedProperties"},
	} {
		ts, err := compileToolSchemas(&Tool{Name: "t", InputSchema: json.RawMessage(tc.schema)})
		if err != nil {
			t.Fatalf("%s: %v", tc.schema, err)
		}
		want := validationMessage("arguments", tc.at, tc.schemaAt, "")
		msg := ts.checkArgs(json.RawMessage(tc.inst))
		// The message is "at <at>: <keyword message> (schema <loc>)".
		prefix, suffix := "at arguments"+tc.at+": ", " (schema "+tc.schemaAt+")"
		if len(msg) < len(prefix)+len(suffix) || msg[:len(prefix)] != prefix || msg[len(msg)-len(suffix):] != suffix {
			t.Errorf("schema %s, instance %s:\n got %s\nwant %s", tc.schema, tc.inst, msg, want)
		}
	}
}

// FuzzCheckArgs feeds client bytes to the message path: checkArgs must
// not panic, and a refusal names a value under "arguments".
//
// go test ./mcp -run='^$' -fuzz=FuzzCheckArgs -fuzztime=30s
func FuzzCheckArgs(f *testing.F) {
	const raw = `{"type":"object","$defs":{"a":{"type":"object","properties":{"z":{"type":"string","pattern":"^[0-9]+$"}},"required":["z"]}},` +
		`"properties":{"s":{"type":"string","minLength":1},"l":{"type":"array","items":{"$ref":"#/$defs/a"},"prefixItems":[{"type":"integer"}]},` +
		`"m":{"type":"object","additionalProperties":{"enum":[1,2]},"patternProperties":{"^p":{"type":"boolean"}}},"r":{"$ref":"#"}},"required":["s"],"additionalProperties":false}`
	ts, err := compileToolSchemas(&Tool{Name: "t", InputSchema: json.RawMessage(raw)})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{`{"s":"a"}`, `{"s":"","l":[1,{"z":"x"}]}`, `{"s":"a","m":{"p1":1,"q":3}}`, `{"s":"a","r":{"r":{"s":7}}}`, `[]`, `{"a/b~c":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if msg := ts.checkArgs(b); msg != "" && !strings.HasPrefix(msg, "at arguments") {
			t.Fatalf("checkArgs(%q) = %q", b, msg)
		}
	})
}
