package mcp

// Typed tools: schemas inferred from Go types, arguments decoded and
// structured content encoded by the server (2025-11-25 server/tools
// §Tool, §Structured Content, §Output Schema).

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	json "github.com/goccy/go-json"
	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A ToolHandlerFor runs a tool whose arguments decode into In and whose
// structured result is Out; see [AddTool]. Errors are treated as for a
// [ToolHandler]: a *jsonrpc.Error is a JSON-RPC error, any other error a
// tool execution error.
type ToolHandlerFor[In, Out any] func(ctx context.Context, req *CallToolRequest, in In) (*CallToolResult, Out, error)

// AddTool adds a tool with typed arguments and results to s, as
// [Server.AddTool] does for a raw [ToolHandler].
//
// Schemas. Unless t.InputSchema is set (a schema set by the caller wins),
// the input schema is inferred from In with [jsonschema.For]: a struct's
// exported fields are its properties (named by their json tags), fields
// without omitempty/omitzero are required, and a `jsonschema:"..."` tag is
// the property's description. In = any means {"type":"object"}; a pointer
// type means its element type. Likewise the output schema is inferred from
// Out unless t.OutputSchema is set, and there is none when Out is any. t
// is not modified; s keeps a copy with the schemas filled in.
//
// Why github.com/google/jsonschema-go: it is what the official Go SDK
// uses, so tools move between the two with the same schemas; it speaks
// draft 2020-12, the dialect 2025-11-25 server/tools §Tool gives schemas
// without $schema (SEP-1613); and one package infers schemas from Go
// types and validates against them, so what is listed and what is checked
// cannot drift apart.
//
// Calls. The arguments are validated against the input schema (as for
// every tool; see [Server.AddTool]) and then decoded into In with
// [jsonrpc.Unmarshal]: member names must match the json names exactly, as
// a case-sensitive gateway in front of the server would read them;
// absent or null arguments decode as {}. A decoding failure is a tool
// execution error and h does not run. Unless h fails, returns a result
// with IsError or InputRequests, or returns a nil Out of interface type,
// out is encoded into the result's StructuredContent (a nil pointer as
// its element's zero value), validated against the output schema, and,
// when the result has no Content, copied into one text block as JSON
// (§Structured Content: "a tool that returns structured content SHOULD
// also return the serialized JSON in a TextContent block"). h may return
// a nil result. The validation is skipped when the output schema was
// inferred from Out and every value of Out encodes to JSON that schema
// accepts (structs of booleans, numbers, strings, pointers and slices of
// them, maps only in omitempty fields; no custom marshalers, byte
// slices, interfaces or embedded fields): there it could not fail.
//
// Beyond the handler, a call allocates the decoded In, the encoded Out
// and one holder for the structured content and its text copy.
//
// AddTool panics if a schema cannot be inferred (In or Out holds a
// channel, a function or a complex number) or the input schema is not an
// object schema (In is not a struct, a map or any), or for any reason
// [Server.AddTool] panics.
func AddTool[In, Out any](s *Server, t *Tool, h ToolHandlerFor[In, Out]) {
	if t.Name == "" || h == nil {
		panic("mcp: AddTool needs a tool name and a handler")
	}
	tt := *t
	if len(tt.InputSchema) == 0 {
		tt.InputSchema = inferSchema[In](t.Name, "input")
	}
	outAny := reflect.TypeFor[Out]() == reflect.TypeFor[any]()
	if len(tt.OutputSchema) == 0 && !outAny {
		tt.OutputSchema = inferSchema[Out](t.Name, "output")
	}
	structured := len(tt.OutputSchema) > 0 || !outAny
	var zeroOut any // the zero element of a pointer Out, sent for a nil *T
	rt := reflect.TypeFor[Out]()
	if rt.Kind() == reflect.Pointer {
		zeroOut = reflect.Zero(rt.Elem()).Interface()
		rt = rt.Elem()
	}
	// An output schema inferred from a type whose encoding always
	// conforms to it need not be checked on every call.
	trusted := len(t.OutputSchema) == 0 && !outAny && conformsByConstruction(rt)
	s.AddTool(&tt, func(ctx context.Context, req *CallToolRequest) (*CallToolResult, error) {
		args := req.Params.Arguments
		if len(args) == 0 || string(args) == "null" {
			args = emptyObject
		}
		var in In
		if err := jsonrpc.Unmarshal(args, &in); err != nil {
			return errorResult("invalid arguments for tool " + req.Params.Name + ": " + err.Error()), nil
		}
		res, out, err := h(ctx, req, in)
		if err != nil {
			return nil, err
		}
		if res == nil {
			res = &CallToolResult{}
		}
		if !structured || res.IsError || len(res.InputRequests) > 0 || res.RequestState != "" {
			return res, nil
		}
		var v any = out
		if v == nil {
			return res, nil
		}
		if zeroOut != nil && reflect.ValueOf(v).IsNil() {
			v = zeroOut
		}
		b, err := jsonrpc.Marshal(v)
		if err != nil {
			return nil, internalError(fmt.Sprintf("tool %q: encoding its output: %v", req.Params.Name, err))
		}
		sj := &structuredJSON{raw: b, trusted: trusted}
		res.StructuredContent = sj
		if res.Content == nil {
			// b is never written again: the text block shares it.
			sj.text[0] = TextContent(unsafe.String(unsafe.SliceData(b), len(b)))
			res.Content = sj.text[:]
		}
		return res, nil
	})
}

var emptyObject = json.RawMessage("{}")

// structuredJSON is the structured content of a typed tool's result: the
// JSON of its Out, encoded once, and the text block that copies it (one
// allocation for both). trusted says that the output schema was inferred
// from Out and Out's encoding conforms to it by construction (see
// [conformsByConstruction]), so the call's output is not validated again.
type structuredJSON struct {
	raw     []byte
	trusted bool
	text    [1]Content
}

// MarshalJSON returns the encoded Out.
func (s *structuredJSON) MarshalJSON() ([]byte, error) { return s.raw, nil }

// conformsByConstruction reports whether every value of t encodes (with
// [jsonrpc.Marshal]) to JSON that the schema jsonschema-go infers for t
// accepts, so that validating it would only cost time: booleans, numbers,
// strings; pointers (nullable in the schema), arrays and slices (slices
// are nullable) of such types; structs of such fields; and maps with
// string keys in struct fields with omitempty or omitzero (a nil map
// encodes as null, which the inferred "object" refuses). Not: byte slices
// (encoded as base64 strings, inferred as arrays), interfaces, types with
// their own JSON or text encoding, embedded fields, the ",string" option,
// recursive types. TestConformsByConstruction holds the inferred schemas
// to it.
func conformsByConstruction(t reflect.Type) bool {
	return plainType(t, false, map[reflect.Type]bool{})
}

func plainType(t reflect.Type, omittable bool, visiting map[reflect.Type]bool) bool {
	if visiting[t] || hasOwnEncoding(t) {
		return false
	}
	visiting[t] = true
	defer delete(visiting, t)
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	case reflect.Pointer:
		return plainType(t.Elem(), false, visiting)
	case reflect.Slice, reflect.Array:
		return t.Elem().Kind() != reflect.Uint8 && plainType(t.Elem(), false, visiting)
	case reflect.Map:
		return omittable && t.Key().Kind() == reflect.String && !hasOwnEncoding(t.Key()) && plainType(t.Elem(), false, visiting)
	case reflect.Struct:
		names := map[string]bool{}
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || !f.IsExported() && !f.Anonymous {
				continue
			}
			if f.Anonymous {
				return false
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "" {
				name = f.Name
			}
			omit := false
			for _, o := range strings.Split(opts, ",") {
				switch o {
				case "string":
					return false
				case "omitempty", "omitzero":
					omit = true
				}
			}
			if names[name] || !plainType(f.Type, omit, visiting) {
				return false
			}
			names[name] = true
		}
		return true
	}
	return false
}

// hasOwnEncoding reports whether t or *t has a method that replaces the
// default JSON encoding of its kind.
func hasOwnEncoding(t reflect.Type) bool {
	for _, m := range []string{"MarshalJSON", "MarshalText", "MarshalJSONTo", "MarshalJSONContext"} {
		if _, ok := t.MethodByName(m); ok {
			return true
		}
		if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
			if _, ok := reflect.PointerTo(t).MethodByName(m); ok {
				return true
			}
		}
	}
	return false
}

// inferSchema returns the JSON Schema that jsonschema-go infers for T (its
// element type if T is a pointer), or panics. any is {"type":"object"}.
func inferSchema[T any](tool, which string) json.RawMessage {
	rt := reflect.TypeFor[T]()
	if rt == reflect.TypeFor[any]() {
		return json.RawMessage(`{"type":"object"}`)
	}
	if rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	schema, err := jsonschema.ForType(rt, nil)
	if err != nil {
		panic(fmt.Sprintf("mcp: tool %q: inferring the %s schema from %s: %v", tool, which, rt, err))
	}
	b, err := json.Marshal(schema)
	if err != nil {
		panic(fmt.Sprintf("mcp: tool %q: encoding the %s schema: %v", tool, which, err))
	}
	return b
}
