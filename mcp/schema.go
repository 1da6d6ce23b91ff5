package mcp

// Tool schemas (2025-11-25 server/tools §Tool, §Structured Content, §Output
// Schema, §Error Handling): compiled once when a tool is added, used to
// validate every call's arguments and every structured result.

import (
	"context"
	"fmt"
	"sync"

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

	// once builds inIdx and outIdx on the first failure; they name the
	// failing value in messages (see [schemaIndex.locate]).
	once          sync.Once
	inIdx, outIdx *schemaIndex
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

// checkArgs validates the arguments of a call against the input schema
// and returns "" or the message of the failure (see [validationMessage]).
// Absent or null arguments are validated as the empty object. The
// arguments are decoded with [jsonrpc.Unmarshal], so a member named twice
// is refused rather than resolved one way or the other.
//
// When the fast path accepts the arguments as text, it allocates nothing
// of its own; otherwise it allocates the decoded instance (maps, strings,
// numbers as float64).
func (ts *toolSchemas) checkArgs(args json.RawMessage) string {
	if len(args) != 0 && string(args) != "null" && ts.fastIn != nil && ts.fastIn.validJSON(args) {
		return ""
	}
	return ts.checkArgsSlow(args)
}

// checkArgsSlow is checkArgs when the fast path did not accept the
// arguments as text: they are decoded.
func (ts *toolSchemas) checkArgsSlow(args json.RawMessage) string {
	var v any
	if len(args) == 0 || string(args) == "null" {
		v = map[string]any{}
	} else if err := jsonrpc.Unmarshal(args, &v); err != nil {
		return validationMessage("arguments", "", "root", err.Error())
	}
	if ts.fastIn != nil && ts.fastIn.valid(v) {
		return ""
	}
	if err := ts.in.Validate(v); err != nil {
		ts.once.Do(ts.index)
		at, schemaAt, msg := ts.inIdx.locate(v, err)
		return validationMessage("arguments", at, schemaAt, msg)
	}
	return ""
}

// checkOutput validates structured content against the output schema
// and returns "" or the message of the failure. A [json.RawMessage]
// (what [AddTool] sets) is decoded; any other value is encoded to JSON
// first, so that custom marshalers are seen as the client will see them.
func (ts *toolSchemas) checkOutput(sc any) string {
	var raw []byte
	switch v := sc.(type) {
	case *structuredJSON:
		raw = v.raw
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		var err error
		if raw, err = jsonrpc.Marshal(sc); err != nil {
			return validationMessage("structuredContent", "", "root", err.Error())
		}
	}
	if ts.fastOut != nil && ts.fastOut.validJSON(raw) {
		return ""
	}
	var v any
	if err := jsonrpc.Unmarshal(raw, &v); err != nil {
		return validationMessage("structuredContent", "", "root", err.Error())
	}
	if ts.fastOut != nil && ts.fastOut.valid(v) {
		return ""
	}
	if err := ts.out.Validate(v); err != nil {
		ts.once.Do(ts.index)
		at, schemaAt, msg := ts.outIdx.locate(v, err)
		return validationMessage("structuredContent", at, schemaAt, msg)
	}
	return ""
}

// index builds the schema indexes that name failing values, once.
func (ts *toolSchemas) index() {
	ts.inIdx = newSchemaIndex(ts.in)
	if ts.out != nil {
		ts.outIdx = newSchemaIndex(ts.out)
	}
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
		if msg := ts.checkArgs(req.Params.Arguments); msg != "" {
			return errorResult("invalid arguments for tool " + ts.name + ": " + msg), nil
		}
		res, err := h(ctx, req)
		if err != nil || res == nil || ts.out == nil || res.IsError || res.StructuredContent == nil {
			return res, err
		}
		if sj, ok := res.StructuredContent.(*structuredJSON); ok && sj.trusted {
			return res, nil // see [conformsByConstruction]
		}
		if msg := ts.checkOutput(res.StructuredContent); msg != "" {
			return errorResult("tool " + ts.name + ": the server's output did not match its outputSchema: " + msg), nil
		}
		return res, nil
	}
}

func errorResult(msg string) *CallToolResult {
	r := TextResult(msg)
	r.IsError = true
	return r
}
