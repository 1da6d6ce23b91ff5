package mcp

// Tool schemas (2025-11-25 server/tools §Tool, §Structured Content, §Output
// Schema, §Error Handling): compiled once when a tool is added, used to
// validate every call's arguments and every structured result.

import (
	"context"
	"fmt"
	"strings"

	json "github.com/goccy/go-json"
	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// toolSchemas are a tool's compiled (resolved) schemas. They are built
// once, by [Server.AddTool], and only read afterwards; a
// [jsonschema.Resolved] is safe for concurrent validation.
type toolSchemas struct {
	name string
	in   *jsonschema.Resolved // never nil once compiled
	out  *jsonschema.Resolved // nil: the tool declares no outputSchema

	// fastIn and fastOut say yes quickly to the instances of simple
	// schemas; nil for other schemas. See [simpleSchema].
	fastIn, fastOut *simpleSchema
}

// compileToolSchemas resolves t's input schema and, if present, its output
// schema. An error is a schema that jsonschema-go cannot compile (bad
// JSON, an unknown $schema, a $ref that does not resolve, a bad regular
// expression); AddTool turns it into a panic.
func compileToolSchemas(t *Tool) (*toolSchemas, error) {
	ts := &toolSchemas{name: t.Name}
	var err error
	if ts.in, err = compileSchema(t.InputSchema); err != nil {
		return nil, fmt.Errorf("inputSchema: %w", err)
	}
	ts.fastIn = compileSimple(t.InputSchema)
	if len(t.OutputSchema) > 0 {
		if ts.out, err = compileSchema(t.OutputSchema); err != nil {
			return nil, fmt.Errorf("outputSchema: %w", err)
		}
		ts.fastOut = compileSimple(t.OutputSchema)
	}
	return ts, nil
}

func compileSchema(raw json.RawMessage) (*jsonschema.Resolved, error) {
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	return s.Resolve(nil)
}

// checkArgs validates the arguments of a call against the input schema.
// Absent or null arguments are validated as the empty object. The
// arguments are decoded with [jsonrpc.Unmarshal], so a member named twice
// is refused rather than resolved one way or the other.
//
// It allocates the decoded instance (maps, strings, numbers as float64).
func (ts *toolSchemas) checkArgs(args json.RawMessage) error {
	var v any
	if len(args) == 0 || string(args) == "null" {
		v = map[string]any{}
	} else if ts.fastIn != nil && ts.fastIn.validJSON(args) {
		return nil
	} else if err := jsonrpc.Unmarshal(args, &v); err != nil {
		return err
	}
	if ts.fastIn != nil && ts.fastIn.valid(v) {
		return nil
	}
	return ts.in.Validate(v)
}

// checkOutput validates structured content against the output schema.
// A [json.RawMessage] (what [AddTool] sets) is decoded; any other value is
// encoded to JSON first, so that custom marshalers are seen as the client
// will see them.
func (ts *toolSchemas) checkOutput(sc any) error {
	var raw []byte
	switch v := sc.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		var err error
		if raw, err = jsonrpc.Marshal(sc); err != nil {
			return err
		}
	}
	if ts.fastOut != nil && ts.fastOut.validJSON(raw) {
		return nil
	}
	var v any
	if err := jsonrpc.Unmarshal(raw, &v); err != nil {
		return err
	}
	if ts.fastOut != nil && ts.fastOut.valid(v) {
		return nil
	}
	return ts.out.Validate(v)
}

// validating wraps h so that every call's arguments are validated against
// the tool's input schema before h runs, and every structured result
// against its output schema after. Both failures are tool execution
// errors (a result with isError set), not JSON-RPC errors: 2025-11-25
// server/tools §Error Handling lists invalid arguments among the tool
// execution errors a model can learn from, and §Output Schema says the
// server MUST provide structured results that conform to the schema.
//
// The wrapper runs wherever the handler does (tools/call and the tasks
// of the tasks extension), and again on each round of a call that asks
// for input, with the same arguments.
func (ts *toolSchemas) validating(h ToolHandler) ToolHandler {
	return func(ctx context.Context, req *CallToolRequest) (*CallToolResult, error) {
		if err := ts.checkArgs(req.Params.Arguments); err != nil {
			return errorResult("invalid arguments for tool " + ts.name + ": " + schemaError(err)), nil
		}
		res, err := h(ctx, req)
		if err != nil || res == nil || ts.out == nil || res.IsError || res.StructuredContent == nil {
			return res, err
		}
		if err := ts.checkOutput(res.StructuredContent); err != nil {
			return errorResult("tool " + ts.name + ": the server's output did not match its outputSchema: " + schemaError(err)), nil
		}
		return res, nil
	}
}

// schemaError is the text of a validation error. jsonschema-go nests one
// "validating <schema location>: " prefix per level; the chain names the
// failing path, and the root prefix says nothing.
func schemaError(err error) string {
	return strings.TrimPrefix(err.Error(), "validating root: ")
}

func errorResult(msg string) *CallToolResult {
	return &CallToolResult{Content: []Content{TextContent(msg)}, IsError: true}
}
