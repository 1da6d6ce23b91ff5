package mcp

// A fast path for the schemas most tools have: objects of typed
// properties, as written by hand or inferred by jsonschema-go.

import (
	"math"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/internal/jsonscan"
)

// A simpleSchema validates JSON values decoded into any (objects as
// map[string]any, numbers as float64) against a schema that uses only the
// keywords below. It only ever says yes for an instance jsonschema-go
// accepts; anything it refuses is checked again by jsonschema-go, which
// has the last word and writes the message. It exists because
// jsonschema-go's validation of a one-property object makes about two
// dozen allocations, more than the rest of a tools/call
// (BenchmarkToolCall); valid makes none. TestSimpleSchemaAgrees holds
// the two to the same answers.
//
// A nil *simpleSchema means the schema uses other keywords ($ref, allOf,
// if/then/else, enum, pattern, ...): jsonschema-go alone validates.
type simpleSchema struct {
	types      uint8 // bit set of jsonType; 0 means any type
	props      map[string]*simpleSchema
	required   []string
	addlFalse  bool          // additionalProperties is false (or {"not":{}})
	addl       *simpleSchema // additionalProperties as a schema, if any
	items      *simpleSchema
	min, max   *float64 // minimum, maximum
	minL, maxL int      // minLength, maxLength (in code points); maxL < 0 means none
	minI, maxI int      // minItems, maxItems; maxI < 0 means none
}

const (
	tNull uint8 = 1 << iota
	tBool
	tInt
	tNumber
	tString
	tArray
	tObject
)

var typeBits = map[string]uint8{"null": tNull, "boolean": tBool, "integer": tInt, "number": tNumber | tInt, "string": tString, "array": tArray, "object": tObject}

// compileSimple returns the fast validator of raw, or nil.
func compileSimple(raw json.RawMessage) *simpleSchema {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return simpleFrom(m, 0)
}

func simpleFrom(m map[string]any, depth int) *simpleSchema {
	if depth > 32 {
		return nil
	}
	s := &simpleSchema{maxL: -1, maxI: -1}
	sub := func(v any) *simpleSchema {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		return simpleFrom(mm, depth+1)
	}
	for k, v := range m {
		switch k {
		case "title", "description", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly":
			// annotations: no effect on validation
		case "$schema":
			if v != "https://json-schema.org/draft/2020-12/schema" {
				return nil
			}
		case "type":
			switch t := v.(type) {
			case string:
				if typeBits[t] == 0 {
					return nil
				}
				s.types = typeBits[t]
			case []any:
				for _, e := range t {
					name, _ := e.(string)
					if typeBits[name] == 0 {
						return nil
					}
					s.types |= typeBits[name]
				}
			default:
				return nil
			}
		case "properties":
			pm, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			s.props = make(map[string]*simpleSchema, len(pm))
			for name, ps := range pm {
				if s.props[name] = sub(ps); s.props[name] == nil {
					return nil
				}
			}
		case "required":
			list, ok := v.([]any)
			if !ok {
				return nil
			}
			for _, e := range list {
				name, ok := e.(string)
				if !ok {
					return nil
				}
				s.required = append(s.required, name)
			}
		case "additionalProperties":
			switch a := v.(type) {
			case bool:
				s.addlFalse = !a
			case map[string]any:
				if len(a) == 1 && isEmptyObject(a["not"]) {
					s.addlFalse = true
				} else if s.addl = sub(a); s.addl == nil {
					return nil
				}
			default:
				return nil
			}
		case "items":
			if s.items = sub(v); s.items == nil {
				return nil
			}
		case "minimum", "maximum":
			f, ok := v.(float64)
			if !ok {
				return nil
			}
			if k == "minimum" {
				s.min = &f
			} else {
				s.max = &f
			}
		case "minLength", "maxLength", "minItems", "maxItems":
			f, ok := v.(float64)
			if !ok || f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
				return nil
			}
			switch k {
			case "minLength":
				s.minL = int(f)
			case "maxLength":
				s.maxL = int(f)
			case "minItems":
				s.minI = int(f)
			default:
				s.maxI = int(f)
			}
		default:
			return nil
		}
	}
	return s
}

func isEmptyObject(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}

// valid reports whether v surely conforms. It does not allocate.
func (s *simpleSchema) valid(v any) bool {
	switch x := v.(type) {
	case nil:
		return s.types == 0 || s.types&tNull != 0
	case bool:
		return s.types == 0 || s.types&tBool != 0
	case float64:
		t := tNumber
		if x == math.Trunc(x) && !math.IsInf(x, 0) {
			t = tInt
		}
		if s.types != 0 && s.types&t == 0 {
			return false
		}
		return (s.min == nil || x >= *s.min) && (s.max == nil || x <= *s.max)
	case string:
		if s.types != 0 && s.types&tString == 0 {
			return false
		}
		if s.minL > 0 || s.maxL >= 0 {
			n := utf8.RuneCountInString(x)
			return n >= s.minL && (s.maxL < 0 || n <= s.maxL)
		}
		return true
	case []any:
		if s.types != 0 && s.types&tArray == 0 || len(x) < s.minI || s.maxI >= 0 && len(x) > s.maxI {
			return false
		}
		if s.items != nil {
			for _, e := range x {
				if !s.items.valid(e) {
					return false
				}
			}
		}
		return true
	case map[string]any:
		if s.types != 0 && s.types&tObject == 0 {
			return false
		}
		for _, name := range s.required {
			if _, ok := x[name]; !ok {
				return false
			}
		}
		for name, e := range x {
			if p := s.props[name]; p != nil {
				if !p.valid(e) {
					return false
				}
			} else if s.addlFalse || s.addl != nil && !s.addl.valid(e) {
				return false
			}
		}
		return true
	}
	return false
}

// validJSON reports whether the JSON text raw surely conforms, reading it
// once with a [jsonscan.Scanner] instead of decoding it into any. It
// borrows raw only while it runs and does not allocate
// (TestValidJSONAllocs). On any doubt (invalid JSON, a duplicate name,
// text the scanner leaves to the full decoder, a refusal) it says no and
// the caller asks jsonschema-go.
func (s *simpleSchema) validJSON(raw []byte) bool {
	sc := jsonscan.Scanner{B: raw}
	return s.validScan(&sc, 0) && sc.AtEnd()
}

func (s *simpleSchema) allows(t uint8) bool { return s.types == 0 || s.types&t != 0 }

// validScan reads one value at the cursor of sc and reports whether it
// surely conforms; depth is its nesting.
func (s *simpleSchema) validScan(sc *jsonscan.Scanner, depth int) bool {
	switch sc.Peek() {
	case 'n':
		_, ok := sc.Literal()
		return ok && s.allows(tNull)
	case 't', 'f':
		_, ok := sc.Literal()
		return ok && s.allows(tBool)
	case '"':
		if !s.allows(tString) {
			return false
		}
		raw, escaped, ok := sc.String()
		if !ok {
			return false
		}
		if s.minL > 0 || s.maxL >= 0 {
			n := utf8.RuneCount(raw)
			if escaped {
				n = jsonscan.RuneCount(raw)
			}
			return n >= s.minL && (s.maxL < 0 || n <= s.maxL)
		}
		return true
	case '[':
		if !s.allows(tArray) {
			return false
		}
		n := 0
		ok := sc.Array(depth, func() bool {
			n++
			if s.items != nil {
				return s.items.validScan(sc, depth+1)
			}
			return sc.Skip(depth + 1)
		})
		return ok && n >= s.minI && (s.maxI < 0 || n <= s.maxI)
	case '{':
		if !s.allows(tObject) || len(s.required) > 64 {
			return false
		}
		var seen uint64
		ok := sc.Object(depth, func(name []byte) bool {
			for i, r := range s.required {
				if r == string(name) {
					seen |= 1 << i
				}
			}
			if p := s.props[string(name)]; p != nil {
				return p.validScan(sc, depth+1)
			}
			if s.addlFalse {
				return false
			}
			if s.addl != nil {
				return s.addl.validScan(sc, depth+1)
			}
			return sc.Skip(depth + 1)
		})
		return ok && seen == 1<<len(s.required)-1
	default:
		_, x, ok := sc.Number()
		if !ok || math.IsInf(x, 0) {
			return false
		}
		t := tNumber
		if x == math.Trunc(x) {
			t = tInt
		}
		return s.allows(t) && (s.min == nil || x >= *s.min) && (s.max == nil || x <= *s.max)
	}
}
