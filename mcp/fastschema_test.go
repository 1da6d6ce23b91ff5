package mcp

import (
	"testing"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// TestSimpleSchemaAgrees checks the fast path against jsonschema-go on
// every pair of schema and instance below: it must never accept what
// jsonschema-go refuses, and it must accept the valid instances of the
// schemas it compiles (else it is no fast path).
func TestSimpleSchemaAgrees(t *testing.T) {
	schemas := []string{
		`{"type":"object"}`,
		`{"type":"object","properties":{}}`,
		`{"type":"object","properties":{"message":{"type":"string","description":"The text to return."}},"required":["message"]}`,
		`{"type":"object","properties":{"steps":{"type":"integer","minimum":1,"maximum":100,"default":3},"intervalMs":{"type":"integer","minimum":0,"maximum":10000,"default":10}}}`,
		`{"type":"object","properties":{"n":{"type":"number"},"s":{"type":"string","minLength":2,"maxLength":3},"b":{"type":"boolean"}},"additionalProperties":false}`,
		`{"type":"object","properties":{"tags":{"type":["null","array"],"items":{"type":"string"},"minItems":1,"maxItems":2}},"additionalProperties":{"not":{}}}`,
		`{"type":"object","additionalProperties":{"type":"integer"}}`,
		`{"type":"object","properties":{"p":{"type":["null","object"],"properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}`,
		`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"x":{}}}`,
		`{"type":"object","properties":{"s":{"type":"string","minLength":2,"minItems":0}}}`,
	}
	instances := []string{
		`{}`, `null`, `[]`, `"x"`, `1`, `{"message":"hi"}`, `{"message":7}`, `{"message":null}`, `{"message":"hi","extra":1}`,
		`{"steps":3}`, `{"steps":3.0}`, `{"steps":3.5}`, `{"steps":0}`, `{"steps":101}`, `{"intervalMs":10000}`, `{"steps":"3"}`,
		`{"n":1.5,"s":"ab","b":true}`, `{"n":1,"s":"abcd"}`, `{"s":"é"}`, `{"s":"éé"}`, `{"b":1}`, `{"z":1}`,
		`{"tags":null}`, `{"tags":[]}`, `{"tags":["a"]}`, `{"tags":["a","b","c"]}`, `{"tags":[1]}`, `{"tags":"a"}`,
		`{"a":1,"b":2}`, `{"a":1.5}`, `{"p":null}`, `{"p":{}}`, `{"p":{"city":"x"}}`, `{"p":{"city":"x","zip":1}}`, `{"x":[{"y":null}]}`,
		`{"s":"a"}`, `{"s":"abc"}`, `{"s":"\u00e9\u00e9"}`, `{"message":"a\"b"}`, `{"steps":1e2}`, `{"steps":-0}`,
	}
	for _, raw := range schemas {
		fast := compileSimple(json.RawMessage(raw))
		if fast == nil {
			t.Errorf("compileSimple(%s) = nil, want a fast path", raw)
			continue
		}
		slow, err := compileSchema(json.RawMessage(raw))
		if err != nil {
			t.Fatal(err)
		}
		for _, inst := range instances {
			var v any
			if err := jsonrpc.Unmarshal([]byte(inst), &v); err != nil {
				t.Fatal(err)
			}
			slowOK := slow.Validate(v) == nil
			if fastOK := fast.valid(v); fastOK != slowOK {
				t.Errorf("schema %s, instance %s: fast %v, jsonschema-go %v", raw, inst, fastOK, slowOK)
			}
			if fastOK := fast.validJSON([]byte(inst)); fastOK != slowOK {
				t.Errorf("schema %s, instance %s: validJSON %v, jsonschema-go %v", raw, inst, fastOK, slowOK)
			}
		}
	}
}

// TestValidJSONRefuses checks that text jsonschema-go would not see as
// one valid value is refused by the token path.
func TestValidJSONRefuses(t *testing.T) {
	fast := compileSimple(json.RawMessage(`{"type":"object"}`))
	for _, inst := range []string{``, `{`, `{}x`, `{} {}`, `{"a":1,"a":2}`, `{"a":}`, `[1,]`} {
		if fast.validJSON([]byte(inst)) {
			t.Errorf("validJSON(%q) = true, want false", inst)
		}
	}
}

// TestSimpleSchemaRefuses lists schemas the fast path leaves to
// jsonschema-go.
func TestSimpleSchemaRefuses(t *testing.T) {
	for _, raw := range []string{
		`{"type":"object","properties":{"a":{"$ref":"#/$defs/a"}},"$defs":{"a":{}}}`,
		`{"type":"object","properties":{"c":{"enum":["a"]}}}`,
		`{"type":"object","properties":{"c":{"const":"a"}}}`,
		`{"type":"object","properties":{"c":{"type":"string","pattern":"^a"}}}`,
		`{"type":"object","allOf":[{}]}`,
		`{"type":"object","if":{},"then":{}}`,
		`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}`,
		`{"type":"object","properties":{"c":{"type":"strin"}}}`,
		`{"type":"object","minProperties":1}`,
		`{"type":"object","properties":{"c":{"exclusiveMinimum":1}}}`,
	} {
		if compileSimple(json.RawMessage(raw)) != nil {
			t.Errorf("compileSimple(%s) != nil, want nil (jsonschema-go only)", raw)
		}
	}
}

// FuzzValidJSON holds the token path to jsonschema-go on client bytes:
// whatever validJSON accepts must decode and pass jsonschema-go.
//
// go test ./mcp -run='^$' -fuzz=FuzzValidJSON -fuzztime=30s
func FuzzValidJSON(f *testing.F) {
	const raw = `{"type":"object","properties":{"s":{"type":"string","minLength":1,"maxLength":3},"n":{"type":"integer","minimum":0},` +
		`"a":{"type":["null","array"],"items":{"type":"number"},"maxItems":2},"o":{"type":"object","additionalProperties":{"type":"boolean"}}},"required":["s"],"additionalProperties":false}`
	fast := compileSimple(json.RawMessage(raw))
	slow, err := compileSchema(json.RawMessage(raw))
	if fast == nil || err != nil {
		f.Fatal(fast, err)
	}
	for _, s := range []string{`{"s":"a"}`, `{"s":"abc","n":1,"a":[1.5],"o":{"x":true}}`, `{"s":"é","a":null}`, `{"s":"a","s":"b"}`, ` {"s":"\u00e9"} `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !fast.validJSON(b) {
			return
		}
		var v any
		if err := jsonrpc.Unmarshal(b, &v); err != nil {
			t.Fatalf("validJSON(%q) = true, but it does not decode: %v", b, err)
		}
		if err := slow.Validate(v); err != nil {
			t.Fatalf("validJSON(%q) = true, jsonschema-go: %v", b, err)
		}
	})
}
