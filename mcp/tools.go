package mcp

// Tools (2025-11-25 server/tools): registration, tools/list and tools/call.

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/internal/jsonscan"
	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A ToolHandler runs a tool. It returns the tool's result, or an error:
// a *jsonrpc.Error is sent as a JSON-RPC error; any other error becomes a
// tool execution error (a result with isError set and the error's text),
// as 2025-11-25 server/tools §Error Handling prescribes. ctx is cancelled
// when the client cancels the request or the session ends.
//
// A result with InputRequests (or RequestState) asks the client for input
// first; see [CallToolResult].
type ToolHandler func(ctx context.Context, req *CallToolRequest) (*CallToolResult, error)

type serverTool struct {
	tool    *Tool
	handler ToolHandler   // validates arguments and output (see [toolSchemas.validating])
	headers []paramHeader // x-mcp-header annotations of the input schema
}

// AddTool adds t, or replaces the tool of the same name, and tells the
// clients that listen (notifications/tools/list_changed). It panics if t
// has no name or its input schema is not a JSON object with
// "type":"object", if its input or output schema does not compile as a
// JSON Schema (draft 2020-12, or draft-07 when its $schema says so), or
// has invalid x-mcp-header annotations (2026-07-28 basic/transports
// §Custom Headers), all programming errors.
//
// AddTool compiles the schemas once. Every call's arguments are then
// validated against the input schema before h runs, and a result's
// structuredContent against the output schema after; a failure is a tool
// execution error (2025-11-25 server/tools §Error Handling: the model can
// correct itself), and h does not run. Its text names the failing value
// by its JSON pointer (RFC 6901) under "arguments" (or
// "structuredContent"), then the keyword that refused it and the schema
// location:
//
//	invalid arguments for tool t: at arguments/items/2/name: type: 7 has type "integer", want "string" (schema /properties/items/items/properties/name)
//	invalid arguments for tool t: at arguments: required: missing properties: ["name"] (schema root)
//
// A refusal reads the same whichever validator ran: simple schemas (typed
// properties, as [AddTool] infers them) are accepted by a fast path that
// only ever says yes, and every refusal is explained by jsonschema-go.
// See [AddTool] for handlers with typed arguments and results.
func (s *Server) AddTool(t *Tool, h ToolHandler) {
	if t.Name == "" || h == nil {
		panic("mcp: AddTool needs a tool name and a handler")
	}
	var schema struct {
		Type string `json:"type"`
	}
	if err := jsonrpc.Unmarshal(t.InputSchema, &schema); err != nil || schema.Type != "object" {
		panic(fmt.Sprintf("mcp: tool %q: inputSchema must be a JSON Schema with \"type\":\"object\"", t.Name))
	}
	headers, err := paramHeaders(t.InputSchema)
	if err != nil {
		panic(fmt.Sprintf("mcp: tool %q: %v", t.Name, err))
	}
	schemas, err := compileToolSchemas(t)
	if err != nil {
		panic(fmt.Sprintf("mcp: tool %q: %v", t.Name, err))
	}
	s.mu.Lock()
	s.tools[t.Name] = &serverTool{tool: t, handler: schemas.validating(h), headers: headers}
	s.noteScopes(t.Scopes)
	s.hasTools = true
	if t.Inline {
		s.anyInline.Store(true)
	}
	s.mu.Unlock()
	s.toolsList.Store(nil)
	s.listChanged(kindTools)
}

// RemoveTools removes the named tools and tells the clients that listen.
func (s *Server) RemoveTools(names ...string) {
	s.mu.Lock()
	for _, n := range names {
		delete(s.tools, n)
	}
	s.mu.Unlock()
	s.toolsList.Store(nil)
	s.listChanged(kindTools)
}

// listTools answers tools/list: a page of the tools by name (see
// pagination.go; 2025-11-25 server/utilities/pagination). The legacy first
// page is cached until the tools change.
func (s *Server) listTools(c *Call) ([]byte, *jsonrpc.Error) {
	at, jerr := listCursor(listTools, c.Params)
	if jerr != nil {
		return nil, jerr
	}
	cache := !c.Session.stateless && !at.set
	if cache {
		if p := s.toolsList.Load(); p != nil {
			return *p, nil
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock() // held while the cache is filled, so a change's reset comes after
	tools := make([]*Tool, 0, len(s.tools))
	for _, t := range s.tools {
		tools = append(tools, t.tool)
	}
	res := ListToolsResult{CacheHints: s.hints(c.Session, true)}
	res.Tools, res.NextCursor = page(s, listTools, tools, func(t *Tool) string { return t.Name }, at)
	b, jerr := encode(res)
	if jerr == nil && cache {
		s.toolsList.Store(&b)
	}
	return b, jerr
}

func (s *Server) callTool(c *Call) ([]byte, *jsonrpc.Error) {
	tc := &c.run // the params, the request, the in-flight record and context: no allocation
	if tc.taken {
		tc = new(toolCall) // a Call handled twice: the first call's request may be in use
	}
	tc.taken = true
	p := &tc.p
	if !scanCallParams(c.Params, p) && (len(c.Params) == 0 || jsonrpc.Unmarshal(c.Params, p) != nil || p.Name == "") {
		return nil, invalidParams("tools/call needs params with a tool name")
	}
	if len(p.Arguments) > 0 && p.Arguments[0] != '{' && string(p.Arguments) != "null" {
		return nil, invalidParams("arguments must be an object")
	}
	s.mu.RLock()
	t := s.tools[p.Name]
	s.mu.RUnlock()
	if t == nil {
		return nil, invalidParams("unknown tool: " + p.Name)
	}
	if p.RequestState != "" {
		if err := s.openState(c.Session, toolBind(p.Name), &p.RequestState); err != nil {
			return nil, err
		}
	}
	if s.tasks != nil {
		if b, jerr, ok := s.tasks.maybeTask(c, t, p, toolBind(p.Name)); ok {
			return b, jerr
		}
	}
	ctx := c.Session.beginIn(c.ID, &tc.fl)
	defer tc.fl.end()
	tc.req = CallToolRequest{Params: p, Request: s.newRequest(c, p.Meta)}
	tc.req.inline = t.tool.Inline
	return s.runTool(ctx, &tc.req, t, c.Buf)
}

// A toolCall is what a tools/call holds while it runs: the params, the
// handler's request, the in-flight record with the request's context. It
// lives in the [Call] (Call.run), or in an allocation of its own for a
// Call handled twice. The handler may keep the request (and so all of
// it) after it returns.
type toolCall struct {
	p     CallToolParams
	req   CallToolRequest
	fl    inflight
	taken bool // a tools/call uses it; it is never used again
}

// toolBind is what a requestState of a call of the tool name is bound
// to (see [sealer]).
func toolBind(name string) string { return MethodToolsCall + "\x00" + name }

// runTool runs a tool handler for req, round after round while a legacy
// client answers its input requests, and encodes the outcome, appending
// it to buf when it can (see [Call].Buf).
func (s *Server) runTool(ctx context.Context, req *CallToolRequest, t *serverTool, buf []byte) ([]byte, *jsonrpc.Error) {
	for round := 0; ; round++ {
		res, err := safeTool(ctx, t.handler, req)
		if req.cancelled(ctx) {
			return nil, ErrNoResponse
		}
		if err != nil {
			var je *jsonrpc.Error
			if errors.As(err, &je) {
				return nil, s.eraError(req.Session, je)
			}
			res = &CallToolResult{Content: []Content{TextContent(err.Error())}, IsError: true}
		}
		if res == nil {
			res = &CallToolResult{}
		}
		if len(res.InputRequests) > 0 || res.RequestState != "" {
			b, answers, jerr := s.needInput(ctx, &req.Request, toolBind(req.Params.Name), round, res.InputRequests, res.RequestState, res.Meta)
			if b != nil || jerr != nil {
				return b, jerr
			}
			req.Params.InputResponses, req.Params.RequestState = answers, res.RequestState
			continue
		}
		if res.Content == nil {
			res.Content = []Content{}
		}
		res.CacheHints = s.withHints(req.Session, res.CacheHints, false)
		return encodeToolResult(res, buf)
	}
}

// safeTool runs h, turning a panic into an internal error so that one bad
// tool cannot take the server down.
func safeTool(ctx context.Context, h ToolHandler, req *CallToolRequest) (res *CallToolResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, internalError(fmt.Sprintf("tool %q panicked: %v", req.Params.Name, r))
		}
	}()
	return h(ctx, req)
}

// scanCallParams reads the params of a common tools/call into p with a
// [jsonscan.Scanner], without decoding them: an object with a "name"
// (a string without escapes), "arguments", "_meta" and members the call
// does not read. It reports false, leaving p as it was, for anything
// else (inputResponses, requestState, task, text the scanner is not sure
// of, no name); the caller then decodes params with [jsonrpc.Unmarshal],
// which reads what scanCallParams accepts the same way (FuzzCallParams)
// and writes the errors.
//
// p.Name and p.Arguments alias params, which must not be modified
// afterwards (see [Call].Params). It allocates only the decoded _meta,
// when there is one.
func scanCallParams(params []byte, p *CallToolParams) bool {
	var name, args, meta []byte
	sc := jsonscan.Scanner{B: params}
	ok := sc.Object(0, func(k []byte) bool {
		var ok, escaped bool
		switch string(k) {
		case "name":
			name, escaped, ok = sc.String()
			return ok && !escaped
		case "arguments":
			args, ok = sc.Value(1)
			return ok
		case "_meta":
			meta, ok = sc.Value(1)
			return ok
		case "inputResponses", "requestState", "task":
			return false
		}
		return sc.Skip(1)
	})
	if !ok || !sc.AtEnd() || len(name) == 0 {
		return false
	}
	if meta != nil && string(meta) != "null" {
		m := new(RequestMeta)
		if jsonrpc.Unmarshal(meta, m) != nil {
			return false
		}
		p.Meta = m
	}
	p.Name = unsafe.String(unsafe.SliceData(name), len(name))
	p.Arguments = args
	return true
}

// scanToolName returns the name of a tools/call's params, unescaped as
// sent, a subslice of params; ok is false when the params are not an
// object the scanner reads up to the name, or the name is absent or
// escaped. It stops at the name: params are a decoded request's, whose
// text the decoder has checked whole (jsonrpc.Decode), and the name only
// routes the request (InlineCall); tools/call reads the params again,
// whole. It does not allocate.
func scanToolName(params []byte) (name []byte, ok bool) {
	sc := jsonscan.Scanner{B: params}
	sc.Object(0, func(k []byte) bool {
		if string(k) != "name" {
			return sc.Skip(1)
		}
		var escaped bool
		name, escaped, ok = sc.String()
		ok = ok && !escaped
		return false // found: no need to read on
	})
	return name, ok && len(name) > 0
}

// StringArgument returns the member name of the call's arguments when it
// is a string, and whether it is: false when the arguments are not a JSON
// object, or name is absent, null or of another type. It reads the
// arguments as [jsonrpc.Unmarshal] into a struct with a *string field
// would (names matched exactly; text that is not JSON, or names a member
// twice, gives false), scanning them instead of decoding them, so a tool
// of string arguments need not decode them itself. A string without
// escapes is not copied: it shares the arguments' memory, which a
// tools/call's handler gets and which must not change (see [Call].Params);
// StringArgument then allocates nothing.
func (p *CallToolParams) StringArgument(name string) (string, bool) {
	var raw []byte
	var found, escaped bool
	sc := jsonscan.Scanner{B: p.Arguments}
	ok := sc.Object(0, func(k []byte) bool {
		if string(k) != name || sc.Peek() != '"' {
			return sc.Skip(1)
		}
		var ok bool
		raw, escaped, ok = sc.String()
		found = ok
		return ok
	})
	if ok && sc.AtEnd() {
		switch {
		case !found:
			return "", false
		case escaped:
			return jsonscan.Unquote(raw), true
		}
		return unsafe.String(unsafe.SliceData(raw), len(raw)), true
	}
	// Not sure, or not JSON: ask the decoder.
	var m map[string]json.RawMessage
	var v *string
	if jsonrpc.Unmarshal(p.Arguments, &m) != nil || m[name] == nil || jsonrpc.Unmarshal(m[name], &v) != nil || v == nil {
		return "", false
	}
	return *v, true
}
