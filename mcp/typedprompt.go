package mcp

// Typed prompts: the arguments list inferred from a Go struct, the
// arguments decoded into it (2025-11-25 server/prompts §Listing Prompts,
// §Getting a Prompt).

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A PromptHandlerFor renders a prompt whose arguments decode into In; see
// [AddPrompt]. Errors are treated as for a [PromptHandler].
type PromptHandlerFor[In any] func(ctx context.Context, req *GetPromptRequest, in In) (*GetPromptResult, error)

// AddPrompt adds a prompt with typed arguments to s, as [Server.AddPrompt]
// does for a raw [PromptHandler].
//
// In is a struct (or a pointer to one) whose exported fields are strings
// or pointers to strings: MCP prompt arguments are strings (2025-11-25
// server/prompts §PromptArgument). Unless p.Arguments is set (a list set
// by the caller wins), the prompt's arguments are inferred from In by the
// rules [AddTool] uses for input schemas: one argument per field, in field
// order, named by its json tag, described by its `jsonschema:"..."` tag,
// and required unless the tag has omitempty or omitzero:
//
//	type reviewArgs struct {
//		Code     string `json:"code" jsonschema:"the code to review"`
//		Language string `json:"language,omitempty"`
//	}
//	// arguments: [{"name":"code","description":"the code to review","required":true},{"name":"language"}]
//
// On prompts/get, a missing required argument is error -32602, as for
// every prompt (§Error Handling). The arguments are then decoded into In
// with [jsonrpc.Unmarshal]: names must match exactly; an argument In has
// no field for (and p.Arguments does not list) is also -32602 ("Invalid
// params: prompt \"review\" has no argument \"Code\""), so that a case
// variant is refused rather than dropped. An absent argument leaves its
// field empty (nil for a *string). p is not modified; s keeps a copy with
// the arguments filled in.
//
// Resource templates have no typed form. Their variables are already
// listed, in uriTemplate itself, so there is nothing to infer; a URI is
// matched against the templates in turn, and what a variable of an RFC
// 6570 operator other than {var}, {+var} and {#var} stands for (a list, an
// exploded map, an optional query) is the handler's to decide from
// req.Params.URI, not a struct field's.
//
// AddPrompt panics if p has no name or h is nil, or if In is not a struct
// of string fields (a string-valued jsonschema-go schema).
func AddPrompt[In any](s *Server, p *Prompt, h PromptHandlerFor[In]) {
	if p.Name == "" || h == nil {
		panic("mcp: AddPrompt needs a prompt name and a handler")
	}
	args, err := promptArguments(reflect.TypeFor[In]())
	if err != nil {
		panic(fmt.Sprintf("mcp: prompt %q: %v", p.Name, err))
	}
	pp := *p
	if pp.Arguments == nil {
		pp.Arguments = args
	}
	known := make(map[string]bool, len(args)+len(pp.Arguments))
	for _, a := range slices.Concat(args, pp.Arguments) {
		known[a.Name] = true
	}
	s.AddPrompt(&pp, func(ctx context.Context, req *GetPromptRequest) (*GetPromptResult, error) {
		for name := range req.Params.Arguments {
			if !known[name] {
				return nil, invalidParams(fmt.Sprintf("prompt %q has no argument %q", pp.Name, name))
			}
		}
		raw := emptyObject
		if len(req.Params.Arguments) > 0 {
			b, err := jsonrpc.Marshal(req.Params.Arguments)
			if err != nil {
				return nil, internalError(fmt.Sprintf("prompt %q: encoding its arguments: %v", pp.Name, err))
			}
			raw = b
		}
		var in In
		if err := jsonrpc.Unmarshal(raw, &in); err != nil {
			return nil, invalidParams(fmt.Sprintf("prompt %q: arguments: %v", pp.Name, err))
		}
		return h(ctx, req, in)
	})
}

// promptArguments returns the prompt arguments jsonschema-go infers for
// t (its element if t is a pointer), in field order, or an error if t is
// not a struct of string fields.
func promptArguments(t reflect.Type) ([]*PromptArgument, error) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("the arguments type %s is not a struct", t)
	}
	schema, err := jsonschema.ForType(t, nil)
	if err != nil {
		return nil, fmt.Errorf("inferring the arguments from %s: %v", t, err)
	}
	args := make([]*PromptArgument, 0, len(schema.PropertyOrder))
	for _, name := range schema.PropertyOrder {
		ps := schema.Properties[name]
		if ps == nil {
			continue
		}
		if ps.Type != "string" && !slices.Equal(ps.Types, []string{"null", "string"}) {
			return nil, fmt.Errorf("argument %q of %s is not a string: prompt arguments are strings", name, t)
		}
		args = append(args, &PromptArgument{Name: name, Description: ps.Description, Required: slices.Contains(schema.Required, name)})
	}
	return args, nil
}
