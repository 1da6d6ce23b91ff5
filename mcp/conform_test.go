package mcp

import (
	"reflect"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

type plainLeaf struct {
	S string  `json:"s"`
	N int8    `json:"n,omitempty"`
	U uint16  `json:"u"`
	F float32 `json:"f"`
	B bool    `json:"b,omitzero"`
}

type plainAll struct {
	Leaf   plainLeaf            `json:"leaf"`
	Ptr    *plainLeaf           `json:"ptr"`
	Leaves []plainLeaf          `json:"leaves"`
	Arr    [2]int               `json:"arr"`
	Ints   []*int               `json:"ints"`
	ByName map[string]plainLeaf `json:"byName,omitempty"`
	Counts map[string]int       `json:"counts,omitzero"`
	Skip   chan int             `json:"-"`
	hidden int                  //lint:ignore U1000 unexported fields are not encoded
	NoTag  string
}

type withTime struct {
	T time.Time `json:"t"`
}

type withBytes struct {
	B []byte `json:"b"`
}

type withMap struct {
	M map[string]int `json:"m"`
}

type withAny struct {
	X any `json:"x"`
}

type withString struct {
	N int `json:"n,string"`
}

type withEmbedded struct {
	plainLeaf
	Z int `json:"z"`
}

type textKey string

func (k textKey) MarshalText() ([]byte, error) { return []byte("k" + k), nil }

type withTextKey struct {
	M map[textKey]int `json:"m,omitempty"`
}

type recursive struct {
	Next *recursive `json:"next"`
}

// TestConformsByConstruction checks which Out types skip output
// validation, and that for those the encoding of sample values (zero,
// filled, nil pointers, slices and maps) passes jsonschema-go against the
// inferred schema.
func TestConformsByConstruction(t *testing.T) {
	one := 1
	leaf := plainLeaf{S: "é", N: -3, U: 7, F: 1.5, B: true}
	for _, tc := range []struct {
		v    any // a pointer to the sample
		want bool
	}{
		{&plainLeaf{}, true},
		{&leaf, true},
		{&plainAll{}, true},
		{&plainAll{Leaf: leaf, Ptr: &leaf, Leaves: []plainLeaf{leaf, {}}, Arr: [2]int{1, -1}, Ints: []*int{&one, nil},
			ByName: map[string]plainLeaf{"a": leaf}, Counts: map[string]int{}, NoTag: "x"}, true},
		{&[]plainLeaf{leaf}, true},
		{new([]plainLeaf), true},
		{&withTime{}, false},
		{&withBytes{B: []byte("x")}, false},
		{&withMap{}, false},
		{&withAny{}, false},
		{&withString{}, false},
		{&withEmbedded{}, false},
		{&withTextKey{}, false},
		{&recursive{}, false},
		{&map[string]int{}, false},
	} {
		rt := reflect.TypeOf(tc.v).Elem()
		got := conformsByConstruction(rt)
		if got != tc.want {
			t.Errorf("conformsByConstruction(%s) = %v, want %v", rt, got, tc.want)
		}
		if !got {
			continue
		}
		schema, err := jsonschema.ForType(rt, nil)
		if err != nil {
			t.Fatal(err)
		}
		resolved, err := schema.Resolve(nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := jsonrpc.Marshal(reflect.ValueOf(tc.v).Elem().Interface())
		if err != nil {
			t.Fatal(err)
		}
		var inst any
		if err := json.Unmarshal(b, &inst); err != nil {
			t.Fatal(err)
		}
		if err := resolved.Validate(inst); err != nil {
			t.Errorf("%s: %s does not validate against the inferred schema: %v", rt, b, err)
		}
	}
}
