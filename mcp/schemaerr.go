package mcp

// Validation messages that name the failing value (2025-11-25
// server/tools §Error Handling: invalid arguments are tool execution
// errors, reported so that the model can correct itself).

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
)

// A schemaIndex maps the schema locations that jsonschema-go writes in
// its errors ("root", a JSON pointer from the root, or a schema's $id) to
// the schemas, and each schema to its JSON pointer. It is built on the
// first failure of a tool, not when the tool is added: a valid call
// never needs it.
type schemaIndex struct {
	r      *jsonschema.Resolved
	byLoc  map[string]*jsonschema.Schema
	ptr    map[*jsonschema.Schema]string
	mu     sync.Mutex
	single map[*jsonschema.Schema]*jsonschema.Resolved // see [schemaIndex.alone]
}

func newSchemaIndex(r *jsonschema.Resolved) *schemaIndex {
	x := &schemaIndex{r: r, byLoc: map[string]*jsonschema.Schema{}, ptr: map[*jsonschema.Schema]string{}, single: map[*jsonschema.Schema]*jsonschema.Resolved{}}
	var walk func(s *jsonschema.Schema, ptr string)
	walk = func(s *jsonschema.Schema, ptr string) {
		x.ptr[s] = ptr
		switch {
		case s.ID != "":
			x.byLoc[s.ID] = s
		case ptr == "":
			x.byLoc["root"] = s
		default:
			x.byLoc[ptr] = s
		}
		forChildren(s, func(name string, c *jsonschema.Schema) { walk(c, ptr+"/"+name) })
	}
	walk(r.Schema(), "")
	return x
}

var (
	schemaT      = reflect.TypeFor[*jsonschema.Schema]()
	schemaSliceT = reflect.TypeFor[[]*jsonschema.Schema]()
	schemaMapT   = reflect.TypeFor[map[string]*jsonschema.Schema]()
	pointerSeg   = strings.NewReplacer("~", "~0", "/", "~1")
)

// forChildren calls f with each subschema of s and its path relative to
// s, spelled as jsonschema-go spells it (map keys escaped, Items and
// ItemsArray both "items").
func forChildren(s *jsonschema.Schema, f func(rel string, c *jsonschema.Schema)) {
	v := reflect.ValueOf(s).Elem()
	for _, sf := range reflect.VisibleFields(v.Type()) {
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		switch sf.Name {
		case "Items", "ItemsArray":
			name = "items"
		case "DependencySchemas":
			name = "dependencies"
		}
		if name == "" || name == "-" {
			continue
		}
		fv := v.FieldByIndex(sf.Index)
		switch sf.Type {
		case schemaT:
			if c := fv.Interface().(*jsonschema.Schema); c != nil {
				f(name, c)
			}
		case schemaSliceT:
			for i, c := range fv.Interface().([]*jsonschema.Schema) {
				f(name+"/"+strconv.Itoa(i), c)
			}
		case schemaMapT:
			for k, c := range fv.Interface().(map[string]*jsonschema.Schema) {
				f(name+"/"+pointerSeg.Replace(k), c)
			}
		}
	}
}

// alone returns s resolved on its own, with its references resolved in
// the tool's schema, so that one item or member can be checked against
// it; nil if that fails.
func (x *schemaIndex) alone(s *jsonschema.Schema) *jsonschema.Resolved {
	x.mu.Lock()
	defer x.mu.Unlock()
	if r, ok := x.single[s]; ok {
		return r
	}
	root := x.r.Schema()
	base := "urn:mcpfiber:schema"
	if u, err := url.Parse(root.ID); err == nil && u.IsAbs() {
		base = root.ID
	}
	load := func(u *url.URL) (*jsonschema.Schema, error) {
		if u.String() != base {
			return nil, fmt.Errorf("no schema %s", u)
		}
		c := root.CloneSchemas()
		c.ID = base
		return c, nil
	}
	w := &jsonschema.Schema{Schema: root.Schema, Ref: base + "#" + x.ptr[s]}
	r, err := w.Resolve(&jsonschema.ResolveOptions{Loader: load})
	if err != nil {
		r = nil
	}
	x.single[s] = r
	return r
}

// locate follows the chain of a jsonschema-go validation error through
// the instance v and returns the JSON pointer (RFC 6901) of the value
// that failed, the location of the schema that refused it, and the
// innermost message.
//
// jsonschema-go wraps one "validating <schema location>: " per schema it
// descends into. Each step from a schema to one of its properties,
// prefixItems or propertyNames names the instance member too; a step to
// items, additionalProperties, patternProperties, additionalItems or the
// unevaluated keywords does not, and the failing member is the first
// (items in order, names sorted) that fails the subschema on its own. Any
// other step (a $ref, allOf, anyOf, oneOf, not, if, then, else,
// dependentSchemas) keeps the instance. Where the chain cannot be
// followed, the pointer stops at the last value it could name.
func (x *schemaIndex) locate(v any, err error) (at, schemaAt, msg string) {
	var locs []string
	for e := err; ; {
		inner := errors.Unwrap(e)
		full := e.Error()
		if inner == nil {
			msg = full
			break
		}
		prefix, ok := strings.CutSuffix(full, ": "+inner.Error())
		loc, ok2 := strings.CutPrefix(prefix, "validating ")
		if !ok || !ok2 {
			msg = full
			break
		}
		locs = append(locs, loc)
		e = inner
	}
	schemaAt = "root"
	if len(locs) > 0 {
		schemaAt = locs[len(locs)-1]
	}
	var b strings.Builder
	var cur *jsonschema.Schema
	for _, loc := range locs {
		next := x.byLoc[loc]
		if next == nil {
			break
		}
		if cur != nil {
			seg, child, ok := x.step(cur, next, v)
			if !ok {
				break
			}
			if seg != "" {
				b.WriteString("/" + pointerSeg.Replace(seg))
				v = child
			}
		}
		cur = next
	}
	return b.String(), schemaAt, msg
}

// step returns the instance member (its name or index; "" for the same
// instance) that validation went into from schema s to schema next.
func (x *schemaIndex) step(s, next *jsonschema.Schema, v any) (seg string, child any, ok bool) {
	obj, _ := v.(map[string]any)
	arr, _ := v.([]any)
	for name, c := range s.Properties {
		if c == next {
			child, ok = obj[name]
			return name, child, ok
		}
	}
	if i := slices.Index(s.PrefixItems, next); i >= 0 && i < len(arr) {
		return strconv.Itoa(i), arr[i], true
	}
	if i := slices.Index(s.ItemsArray, next); i >= 0 && i < len(arr) {
		return strconv.Itoa(i), arr[i], true
	}
	if next == s.PropertyNames {
		for _, name := range sortedKeys(obj) {
			if r := x.alone(next); r == nil || r.Validate(name) != nil {
				return name, name, true
			}
		}
		return "", nil, false
	}
	var from int
	switch {
	case next == s.Items:
		from = max(len(s.PrefixItems), len(s.ItemsArray))
	case next == s.AdditionalItems:
		from = len(s.ItemsArray)
	case next == s.UnevaluatedItems:
	case next == s.AdditionalProperties, next == s.UnevaluatedProperties:
		return x.firstFailing(next, obj, func(name string) bool { _, ok := s.Properties[name]; return !ok })
	default:
		for re, c := range s.PatternProperties {
			if c == next {
				rx, err := regexp.Compile(re)
				if err != nil {
					return "", nil, false
				}
				return x.firstFailing(next, obj, rx.MatchString)
			}
		}
		return "", v, true // a $ref or an applicator on the same instance
	}
	r := x.alone(next)
	if r == nil {
		return "", nil, false
	}
	for i := from; i < len(arr); i++ {
		if r.Validate(arr[i]) != nil {
			return strconv.Itoa(i), arr[i], true
		}
	}
	return "", nil, false
}

// firstFailing returns the first member of obj (names sorted) that is
// among those applies selects and fails s.
func (x *schemaIndex) firstFailing(s *jsonschema.Schema, obj map[string]any, applies func(string) bool) (string, any, bool) {
	r := x.alone(s)
	if r == nil {
		return "", nil, false
	}
	for _, name := range sortedKeys(obj) {
		if applies(name) && r.Validate(obj[name]) != nil {
			return name, obj[name], true
		}
	}
	return "", nil, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validationMessage is the message of a validation failure of the value
// named root ("arguments", "structuredContent"):
//
//	at arguments/items/2/name: type: 7 has type "integer", want "string" (schema /properties/items/items/properties/name)
//
// The path after root is the JSON pointer of the failing value; "at
// arguments" is the whole value.
func validationMessage(root, at, schemaAt, msg string) string {
	return "at " + root + at + ": " + msg + " (schema " + schemaAt + ")"
}
