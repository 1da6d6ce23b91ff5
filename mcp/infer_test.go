package mcp

import (
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
)

type inferAddr struct {
	Street string `json:"street"`
	City   string `json:"city,omitempty" jsonschema:"the city"`
}

type inferNested struct {
	Name    string         `json:"name" jsonschema:"who to greet"`
	Home    inferAddr      `json:"home"`
	Work    *inferAddr     `json:"work,omitempty"`
	Tags    []string       `json:"tags,omitempty"`
	Scores  map[string]int `json:"scores,omitempty"`
	When    time.Time      `json:"when,omitzero"`
	private int            //lint:ignore U1000 an unexported field is no property
	Skipped int            `json:"-"`
}

// TestInferSchema pins the schemas jsonschema-go infers for the shapes
// tool arguments take: these are what tools/list sends.
func TestInferSchema(t *testing.T) {
	addr := `{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string","description":"the city"}},"required":["street"],"additionalProperties":false}`
	nullAddr := `{"type":["null","object"],"properties":{"street":{"type":"string"},"city":{"type":"string","description":"the city"}},"required":["street"],"additionalProperties":false}`
	for _, tc := range []struct {
		name string
		got  json.RawMessage
		want string
	}{
		{"any", inferSchema[any]("t", "input"), `{"type":"object"}`},
		{"struct", inferSchema[inferAddr]("t", "input"), addr},
		{"pointer", inferSchema[*inferAddr]("t", "input"), addr},
		{"nested", inferSchema[inferNested]("t", "input"), `{"type":"object","properties":{` +
			`"name":{"type":"string","description":"who to greet"},` +
			`"home":` + addr + `,` +
			`"work":` + nullAddr + `,` +
			`"tags":{"type":["null","array"],"items":{"type":"string"}},` +
			`"scores":{"type":"object","additionalProperties":{"type":"integer"}},` +
			`"when":{"type":"string"}},` +
			`"required":["name","home"],"additionalProperties":false}`},
		{"map", inferSchema[map[string]float64]("t", "input"), `{"type":"object","additionalProperties":{"type":"number"}}`},
		{"slice", inferSchema[[]bool]("t", "output"), `{"type":["null","array"],"items":{"type":"boolean"}}`},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("inferSchema[%s] =\n%s\nwant\n%s", tc.name, tc.got, tc.want)
		}
	}
}

// TestInferSchemaPanics checks that types without a JSON Schema, and
// jsonschema tags jsonschema-go reserves (it has no enum tag: set
// Tool.InputSchema for enums), panic with the tool's name.
func TestInferSchemaPanics(t *testing.T) {
	type withChan struct {
		C chan int `json:"c"`
	}
	type withEnumTag struct {
		Color string `json:"color" jsonschema:"enum=red,blue"`
	}
	for _, tc := range []struct {
		name  string
		infer func()
		want  string
	}{
		{"chan", func() { inferSchema[withChan]("t", "input") }, `tool "t": inferring the input schema`},
		{"enum-tag", func() { inferSchema[withEnumTag]("t", "input") }, `tag must not begin with 'WORD='`},
		{"func", func() { inferSchema[func()]("t", "output") }, `tool "t": inferring the output schema`},
	} {
		got := func() (msg string) {
			defer func() { msg, _ = recover().(string) }()
			tc.infer()
			return ""
		}()
		if !strings.Contains(got, tc.want) {
			t.Errorf("inferSchema(%s) panicked with %q, want it to contain %q", tc.name, got, tc.want)
		}
	}
}
