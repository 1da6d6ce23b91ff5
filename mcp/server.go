package mcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A ToolHandler runs a tool. It returns the tool's result, or an error:
// a *jsonrpc.Error is sent as a JSON-RPC error; any other error becomes a
// tool execution error (a result with isError set and the error's text),
// as 2025-11-25 server/tools §Error Handling prescribes. ctx is cancelled
// when the client cancels the request or the session ends.
type ToolHandler func(ctx context.Context, req *CallToolRequest) (*CallToolResult, error)

// ServerOptions configure a [Server]. A nil *ServerOptions means defaults.
type ServerOptions struct {
	// Instructions are sent in the initialize result. Optional.
	Instructions string
	// Logger receives the server's own diagnostics. Default: slog.Default().
	Logger *slog.Logger
}

// A Server holds what an MCP server offers (its tools) and dispatches
// requests to them. It is safe for concurrent use; tools may be added
// while it serves.
type Server struct {
	impl Implementation
	opts ServerOptions

	mu    sync.RWMutex           // guards tools
	tools map[string]*serverTool // by name

	toolsList atomic.Pointer[[]byte] // cached tools/list result; nil after a change
}

type serverTool struct {
	tool    *Tool
	handler ToolHandler
}

// NewServer returns a Server that introduces itself as impl.
func NewServer(impl Implementation, opts *ServerOptions) *Server {
	s := &Server{impl: impl, tools: make(map[string]*serverTool)}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Logger == nil {
		s.opts.Logger = slog.Default()
	}
	return s
}

// AddTool adds t, or replaces the tool of the same name. It panics if t
// has no name or its input schema is not a JSON object, a programming
// error.
func (s *Server) AddTool(t *Tool, h ToolHandler) {
	if t.Name == "" || h == nil {
		panic("mcp: AddTool needs a tool name and a handler")
	}
	var schema struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(t.InputSchema, &schema); err != nil || schema.Type != "object" {
		panic(fmt.Sprintf("mcp: tool %q: inputSchema must be a JSON Schema with \"type\":\"object\"", t.Name))
	}
	s.mu.Lock()
	s.tools[t.Name] = &serverTool{tool: t, handler: h}
	s.mu.Unlock()
	s.toolsList.Store(nil)
}

// Initialize handles an initialize request (2025-11-25 basic/lifecycle
// §Initialization): it negotiates the version and returns the encoded
// result and the new session's state. params that are not an object with a
// protocolVersion string give CodeInvalidParams.
func (s *Server) Initialize(params json.RawMessage) ([]byte, *SessionState, *jsonrpc.Error) {
	var p InitializeParams
	if len(params) == 0 || json.Unmarshal(params, &p) != nil || p.ProtocolVersion == "" {
		return nil, nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: initialize needs params with a protocolVersion string")
	}
	var caps ClientCapabilities
	if len(p.Capabilities) > 0 {
		_ = json.Unmarshal(p.Capabilities, &caps) // unknown shapes declare nothing
	}
	version := NegotiateVersion(p.ProtocolVersion)
	res := InitializeResult{
		ProtocolVersion: version,
		Capabilities: ServerCapabilities{
			Logging: &struct{}{},
			Tools:   &ToolCapabilities{},
		},
		ServerInfo:   s.impl,
		Instructions: s.opts.Instructions,
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, nil, jsonrpc.AsError(err)
	}
	return b, NewSessionState(version, p.ClientInfo, caps), nil
}

// Inline reports whether method is answered at once, without sending
// anything first, so that the transport may run it on the request's own
// goroutine and answer with application/json. Everything else may run long
// and send notifications before its response.
func (s *Server) Inline(method string) bool {
	switch method {
	case "ping", "tools/list", "logging/setLevel":
		return true
	}
	return method != "tools/call" // unknown methods are answered at once with -32601
}

// An Outbound carries the messages a request sends before its response
// (notifications, and later server-to-client requests) to the client, on
// the stream of that request (2025-11-25 basic/transports §Sending Messages
// to the Server, item 6). Send takes ownership of msg.
type Outbound interface {
	Send(msg []byte) error
}

// A Call is one JSON-RPC request for [Server.Handle].
type Call struct {
	Session *SessionState
	Method  string
	ID      json.RawMessage
	Params  json.RawMessage
	// Out carries messages sent before the response. Required for methods
	// that are not Inline.
	Out Outbound
}

// ErrCancelled is returned by [Server.Handle] when the client cancelled the
// request with notifications/cancelled: no response may be sent
// (2025-11-25 basic/utilities/cancellation).
var ErrCancelled = errors.New("mcp: request cancelled by the client")

// Handle answers one request of a live session (not initialize). It returns
// the encoded result or a JSON-RPC error; when the client cancelled the
// request, the error is one for which [IsCancelled] is true and no response
// may be sent.
func (s *Server) Handle(c *Call) (result []byte, err *jsonrpc.Error) {
	switch c.Method {
	case "ping":
		return emptyResult, nil
	case "tools/list":
		return s.listTools(), nil
	case "logging/setLevel":
		return setLevel(c)
	case "tools/call":
		return s.callTool(c)
	}
	return nil, jsonrpc.NewError(jsonrpc.CodeMethodNotFound, "Method not found: "+c.Method)
}

// Notify handles a notification from the client: notifications/initialized
// and notifications/cancelled; others are ignored, as JSON-RPC requires of
// notifications the receiver does not act on.
func (s *Server) Notify(st *SessionState, method string, params json.RawMessage) {
	switch method {
	case "notifications/initialized":
		st.initialized.Store(true)
	case "notifications/cancelled":
		var p struct {
			RequestID json.RawMessage `json:"requestId"`
		}
		if json.Unmarshal(params, &p) == nil && len(p.RequestID) > 0 {
			st.cancelRequest(p.RequestID)
		}
	}
}

// Deliver takes a response from the client. The Server sends no requests
// to clients yet, so there is nothing waiting for one: it is dropped.
func (s *Server) Deliver(st *SessionState, m *jsonrpc.Message) {}

var emptyResult = []byte("{}")

func (s *Server) listTools() []byte {
	if p := s.toolsList.Load(); p != nil {
		return *p
	}
	s.mu.RLock()
	res := ListToolsResult{Tools: make([]*Tool, 0, len(s.tools))}
	for _, t := range s.tools {
		res.Tools = append(res.Tools, t.tool)
	}
	s.mu.RUnlock()
	slices.SortFunc(res.Tools, func(a, b *Tool) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	b, err := json.Marshal(res)
	if err != nil {
		s.opts.Logger.Error("tools/list: encoding tools", "err", err)
		return []byte(`{"tools":[]}`)
	}
	s.toolsList.Store(&b)
	return b
}

func setLevel(c *Call) ([]byte, *jsonrpc.Error) {
	var p struct {
		Level LoggingLevel `json:"level"`
	}
	if json.Unmarshal(c.Params, &p) != nil || p.Level.severity() == 0 {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: level must be one of debug, info, notice, warning, error, critical, alert, emergency")
	}
	c.Session.logLevel.Store(p.Level.severity())
	return emptyResult, nil
}

func (s *Server) callTool(c *Call) ([]byte, *jsonrpc.Error) {
	var p CallToolParams
	if len(c.Params) == 0 || json.Unmarshal(c.Params, &p) != nil || p.Name == "" {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: tools/call needs params with a tool name")
	}
	if len(p.Arguments) > 0 && p.Arguments[0] != '{' && string(p.Arguments) != "null" {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: arguments must be an object")
	}
	s.mu.RLock()
	t := s.tools[p.Name]
	s.mu.RUnlock()
	if t == nil {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Unknown tool: "+p.Name)
	}
	ctx, done := c.Session.begin(c.ID)
	defer done()
	req := &CallToolRequest{Params: &p, Session: c.Session, call: c}
	res, err := runTool(ctx, t.handler, req)
	if req.cancelled(ctx) {
		return nil, errCancelled
	}
	if err != nil {
		var je *jsonrpc.Error
		if errors.As(err, &je) {
			return nil, je
		}
		res = &CallToolResult{Content: []Content{TextContent(err.Error())}, IsError: true}
	}
	if res == nil {
		res = &CallToolResult{}
	}
	if res.Content == nil {
		res.Content = []Content{}
	}
	b, merr := json.Marshal(res)
	if merr != nil {
		return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: encoding the tool result: "+merr.Error())
	}
	return b, nil
}

// runTool runs h, turning a panic into an internal error so that one bad
// tool cannot take the server down.
func runTool(ctx context.Context, h ToolHandler, req *CallToolRequest) (res *CallToolResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, jsonrpc.NewError(jsonrpc.CodeInternalError, fmt.Sprintf("Internal error: tool %q panicked: %v", req.Params.Name, r))
		}
	}()
	return h(ctx, req)
}

// errCancelled is the sentinel *jsonrpc.Error meaning "send no response".
var errCancelled = &jsonrpc.Error{Code: 0, Message: ErrCancelled.Error()}

// IsCancelled reports whether err from [Server.Handle] means the client
// cancelled the request, so that no response may be sent.
func IsCancelled(err *jsonrpc.Error) bool { return err == errCancelled }
