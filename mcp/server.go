package mcp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

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

// A PromptHandler renders a prompt (2025-11-25 server/prompts). Errors are
// sent as JSON-RPC errors (an error that is not a *jsonrpc.Error as an
// internal error).
type PromptHandler func(ctx context.Context, req *GetPromptRequest) (*GetPromptResult, error)

// A ResourceHandler reads a resource, or the resources of a template
// (2025-11-25 server/resources). It returns [ResourceNotFoundError] for a
// URI it does not serve.
type ResourceHandler func(ctx context.Context, req *ReadResourceRequest) (*ReadResourceResult, error)

// A CompletionHandler suggests values for a prompt or resource template
// argument (2025-11-25 server/utilities/completion).
type CompletionHandler func(ctx context.Context, req *CompleteRequest) (*CompleteResult, error)

// ServerOptions configure a [Server]. A nil *ServerOptions means defaults.
type ServerOptions struct {
	// Instructions are sent in the initialize and server/discover results.
	// Optional.
	Instructions string
	// Logger receives the server's own diagnostics. Default: slog.Default().
	Logger *slog.Logger
	// CompletionHandler answers completion/complete; the completions
	// capability is declared only when it is set.
	CompletionHandler CompletionHandler
	// ClientRequestTimeout bounds the wait for the client's answer to a
	// request the server sends it (sampling, elicitation, roots). Default:
	// 60s ([DefaultClientRequestTimeout]); negative: no bound besides the
	// request's own context.
	ClientRequestTimeout time.Duration
	// StateKey is the 32-byte AES-256-GCM key that seals the requestState
	// of 2026-07-28 input-required results. Default: a random key made by
	// NewServer, so state does not survive a restart and differs between
	// replicas. NewServer panics on a key of another length.
	StateKey []byte
	// RequestStateTTL is how long a sealed requestState is accepted.
	// Default: 10m ([DefaultRequestStateTTL]).
	RequestStateTTL time.Duration
	// CacheTTL is the ttlMs of 2026-07-28 cacheable results (server/discover,
	// the lists and resources/read; server/utilities/caching). Default: 0
	// (clients revalidate every time).
	CacheTTL time.Duration
	// CacheScope is their cacheScope, "public" or "private". Default:
	// "private".
	CacheScope string
	// Tasks enables the tasks extension (see [TaskOptions]); nil disables it.
	Tasks *TaskOptions
}

// Defaults used where [ServerOptions] fields are zero.
const (
	DefaultClientRequestTimeout = 60 * time.Second
	DefaultRequestStateTTL      = 10 * time.Minute
)

// maxInputRounds bounds how often a handler may ask a legacy session's
// client for input within one request.
const maxInputRounds = 8

// A Server holds what an MCP server offers (tools, resources, resource
// templates, prompts, completion) and dispatches requests to them, for
// 2025 sessions ([Server.Initialize], then the session's [Conn]) and 2026-07-28
// stateless requests ([Server.HandleStateless]). It is safe for concurrent
// use; features may be added and removed while it serves, and clients that
// asked are told (notifications/*/list_changed).
type Server struct {
	impl   Implementation
	opts   ServerOptions
	sealer *sealer
	tasks  *taskStore

	mu        sync.RWMutex // guards the registries
	tools     map[string]*serverTool
	prompts   map[string]*serverPrompt
	resources map[string]*serverResource
	templates []*serverTemplate
	hasTools  bool // sticky: declared once anything was registered
	hasProm   bool
	hasRes    bool

	toolsList atomic.Pointer[[]byte] // cached legacy tools/list result; nil after a change

	smu       sync.Mutex // guards sessions and listeners
	sessions  map[*SessionState]struct{}
	listeners map[*listener]struct{}
}

type serverTool struct {
	tool    *Tool
	handler ToolHandler
	headers []paramHeader // x-mcp-header annotations of the input schema
}

type serverPrompt struct {
	prompt  *Prompt
	handler PromptHandler
}

type serverResource struct {
	resource *Resource
	handler  ResourceHandler
}

type serverTemplate struct {
	template *ResourceTemplate
	match    func(uri string) bool
	handler  ResourceHandler
}

// NewServer returns a Server that introduces itself as impl.
func NewServer(impl Implementation, opts *ServerOptions) *Server {
	s := &Server{
		impl:      impl,
		tools:     make(map[string]*serverTool),
		prompts:   make(map[string]*serverPrompt),
		resources: make(map[string]*serverResource),
		sessions:  make(map[*SessionState]struct{}),
		listeners: make(map[*listener]struct{}),
	}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Logger == nil {
		s.opts.Logger = slog.Default()
	}
	if s.opts.ClientRequestTimeout == 0 {
		s.opts.ClientRequestTimeout = DefaultClientRequestTimeout
	}
	if s.opts.RequestStateTTL <= 0 {
		s.opts.RequestStateTTL = DefaultRequestStateTTL
	}
	if s.opts.CacheScope == "" {
		s.opts.CacheScope = CacheScopePrivate
	}
	sl, err := newSealer(s.opts.StateKey, s.opts.RequestStateTTL)
	if err != nil {
		panic("mcp: ServerOptions.StateKey: " + err.Error())
	}
	s.sealer = sl
	if s.opts.Tasks != nil {
		s.tasks = newTaskStore(s, s.opts.Tasks)
	}
	return s
}

func (s *Server) clientTimeout() time.Duration {
	if s.opts.ClientRequestTimeout < 0 {
		return 0
	}
	return s.opts.ClientRequestTimeout
}

// AddTool adds t, or replaces the tool of the same name, and tells the
// clients that listen (notifications/tools/list_changed). It panics if t
// has no name or its input schema is not a JSON object with
// "type":"object", or has invalid x-mcp-header annotations (2026-07-28
// basic/transports §Custom Headers), all programming errors.
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
	s.mu.Lock()
	s.tools[t.Name] = &serverTool{tool: t, handler: h, headers: headers}
	s.hasTools = true
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

// AddPrompt adds p, or replaces the prompt of the same name, and tells the
// clients that listen (notifications/prompts/list_changed). It panics if p
// has no name.
func (s *Server) AddPrompt(p *Prompt, h PromptHandler) {
	if p.Name == "" || h == nil {
		panic("mcp: AddPrompt needs a prompt name and a handler")
	}
	s.mu.Lock()
	s.prompts[p.Name] = &serverPrompt{prompt: p, handler: h}
	s.hasProm = true
	s.mu.Unlock()
	s.listChanged(kindPrompts)
}

// RemovePrompts removes the named prompts and tells the clients that
// listen.
func (s *Server) RemovePrompts(names ...string) {
	s.mu.Lock()
	for _, n := range names {
		delete(s.prompts, n)
	}
	s.mu.Unlock()
	s.listChanged(kindPrompts)
}

// AddResource adds r, or replaces the resource with the same URI, and
// tells the clients that listen (notifications/resources/list_changed). It
// panics if r has no URI or name.
func (s *Server) AddResource(r *Resource, h ResourceHandler) {
	if r.URI == "" || r.Name == "" || h == nil {
		panic("mcp: AddResource needs a URI, a name and a handler")
	}
	s.mu.Lock()
	s.resources[r.URI] = &serverResource{resource: r, handler: h}
	s.hasRes = true
	s.mu.Unlock()
	s.listChanged(kindResources)
}

// AddResourceTemplate adds t, or replaces the template with the same URI
// template. Reads of URIs no resource has go to the first template that
// matches (RFC 6570 level 1–2 expressions: {var}, {+var}, {#var}). It
// panics if t has no name or its URI template does not parse.
func (s *Server) AddResourceTemplate(t *ResourceTemplate, h ResourceHandler) {
	if t.Name == "" || h == nil {
		panic("mcp: AddResourceTemplate needs a name and a handler")
	}
	match, err := compileURITemplate(t.URITemplate)
	if err != nil {
		panic(fmt.Sprintf("mcp: resource template %q: %v", t.Name, err))
	}
	s.mu.Lock()
	st := &serverTemplate{template: t, match: match, handler: h}
	i := slices.IndexFunc(s.templates, func(o *serverTemplate) bool { return o.template.URITemplate == t.URITemplate })
	if i >= 0 {
		s.templates[i] = st
	} else {
		s.templates = append(s.templates, st)
	}
	s.hasRes = true
	s.mu.Unlock()
	s.listChanged(kindResources)
}

// RemoveResources removes the resources with the given URIs (and templates
// with the given URI templates) and tells the clients that listen.
func (s *Server) RemoveResources(uris ...string) {
	s.mu.Lock()
	for _, u := range uris {
		delete(s.resources, u)
		s.templates = slices.DeleteFunc(s.templates, func(t *serverTemplate) bool { return t.template.URITemplate == u })
	}
	s.mu.Unlock()
	s.listChanged(kindResources)
}

// capabilities returns what the server declares: a feature once anything
// of it was registered, logging always, completions with a handler.
func (s *Server) capabilities() ServerCapabilities {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := ServerCapabilities{Logging: &struct{}{}}
	if s.hasTools {
		c.Tools = &ToolCapabilities{ListChanged: true}
	}
	if s.hasProm {
		c.Prompts = &PromptCapabilities{ListChanged: true}
	}
	if s.hasRes {
		c.Resources = &ResourceCapabilities{Subscribe: true, ListChanged: true}
	}
	if s.opts.CompletionHandler != nil {
		c.Completions = &struct{}{}
	}
	return c
}

func (s *Server) has(kind featureKind) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch kind {
	case kindTools:
		return s.hasTools
	case kindPrompts:
		return s.hasProm
	case kindResources:
		return s.hasRes
	}
	return false
}

// Initialize handles an initialize request (2025-11-25 basic/lifecycle
// §Initialization): it negotiates the version and returns the encoded
// result and the new session's [Conn], whose state the Server follows for
// list_changed and resource notifications until it closes. params that are
// not an object with a protocolVersion string give CodeInvalidParams.
func (s *Server) Initialize(params json.RawMessage) ([]byte, Conn, *jsonrpc.Error) {
	var p InitializeParams
	if len(params) == 0 || jsonrpc.Unmarshal(params, &p) != nil || p.ProtocolVersion == "" {
		return nil, nil, invalidParams("initialize needs params with a protocolVersion string")
	}
	var caps ClientCapabilities
	if len(p.Capabilities) > 0 {
		_ = jsonrpc.Unmarshal(p.Capabilities, &caps) // unknown shapes declare nothing
	}
	version := NegotiateVersion(p.ProtocolVersion)
	res := InitializeResult{
		ProtocolVersion: version,
		Capabilities:    s.capabilities(),
		ServerInfo:      s.impl,
		Instructions:    s.opts.Instructions,
	}
	b, err := jsonrpc.Marshal(res)
	if err != nil {
		return nil, nil, jsonrpc.AsError(err)
	}
	st := NewSessionState(version, p.ClientInfo, caps)
	s.addSession(st)
	return b, &serverConn{s: s, st: st}, nil
}

// Close cancels the handlers still running as tasks (see [TaskOptions]);
// the server answers no more tasks/* requests for them. Sessions are
// the transport's to end.
func (s *Server) Close() {
	if s.tasks != nil {
		s.tasks.close()
	}
}

// An Outbound carries the messages a request sends before its response
// (notifications, and server-to-client requests) to the client, on the
// stream of that request (2025-11-25 basic/transports §Sending Messages to
// the Server, item 6). Send takes ownership of msg and never blocks.
type Outbound interface {
	Send(msg []byte) error
}

// A StreamCloser is an [Outbound] whose stream's connection can be closed
// while the stream goes on (SEP-1699); see [Request.CloseSSEStream].
type StreamCloser interface {
	// CloseStream closes the connection carrying the stream, keeping the
	// stream resumable, and reports whether it did.
	CloseStream() bool
}

// A Call is one JSON-RPC request of a session, for [Conn.Handle].
type Call struct {
	Session *SessionState
	Method  string
	ID      json.RawMessage
	Params  json.RawMessage
	// Out carries messages sent before the response. When nil they go to
	// the session's GET stream.
	Out Outbound

	draining <-chan struct{} // StatelessCall.Draining, for subscriptions/listen
}

// deliver takes a response from the client to a request the server sent
// it and hands it to the handler waiting for it (the Server's
// [Conn.Deliver]). Responses nobody waits for (timed out, or never asked)
// are dropped.
func (s *Server) deliver(st *SessionState, m *jsonrpc.Message) {
	if !st.deliver(m) {
		s.opts.Logger.Debug("mcp: a response from the client matches no request", "id", string(m.ID))
	}
}

var emptyResult = []byte("{}")

// newRequest returns the handler-facing part of c.
func (s *Server) newRequest(c *Call, meta *RequestMeta) Request {
	r := Request{Session: c.Session, srv: s, call: c}
	if meta != nil {
		r.progressToken = meta.ProgressToken
	}
	return r
}

// hints returns the 2026-07-28 members of a result: resultType and
// serverInfo always, ttlMs and cacheScope when cacheable. Legacy results
// get none.
func (s *Server) hints(st *SessionState, cacheable bool) CacheHints {
	if !st.stateless {
		return CacheHints{}
	}
	h := CacheHints{ResultType: ResultTypeComplete, Meta: Meta{MetaServerInfo: s.impl}}
	if cacheable {
		ttl := s.opts.CacheTTL.Milliseconds()
		h.TTLMs = &ttl
		h.CacheScope = s.opts.CacheScope
	}
	return h
}

// withHints merges the server's hints into a handler's own.
func (s *Server) withHints(st *SessionState, own CacheHints, cacheable bool) CacheHints {
	h := s.hints(st, cacheable)
	if !st.stateless {
		return own
	}
	for k, v := range own.Meta {
		h.Meta[k] = v
	}
	if cacheable && own.TTLMs != nil {
		h.TTLMs = own.TTLMs
	}
	if cacheable && own.CacheScope != "" {
		h.CacheScope = own.CacheScope
	}
	return h
}

func encode(v any) ([]byte, *jsonrpc.Error) {
	b, err := jsonrpc.Marshal(v)
	if err != nil {
		return nil, internalError("encoding the result: " + err.Error())
	}
	return b, nil
}

func (s *Server) listTools(c *Call) ([]byte, *jsonrpc.Error) {
	if !c.Session.stateless {
		if p := s.toolsList.Load(); p != nil {
			return *p, nil
		}
	}
	s.mu.RLock()
	res := ListToolsResult{Tools: make([]*Tool, 0, len(s.tools))}
	for _, t := range s.tools {
		res.Tools = append(res.Tools, t.tool)
	}
	s.mu.RUnlock()
	slices.SortFunc(res.Tools, func(a, b *Tool) int { return cmp.Compare(a.Name, b.Name) })
	res.CacheHints = s.hints(c.Session, true)
	b, jerr := encode(res)
	if jerr == nil && !c.Session.stateless {
		s.toolsList.Store(&b)
	}
	return b, jerr
}

// setLevel answers logging/setLevel (2025-11-25 server/utilities/logging
// §Setting Log Level).
func (s *Server) setLevel(c *Call) ([]byte, *jsonrpc.Error) {
	var p struct {
		Level LoggingLevel `json:"level"`
	}
	if jsonrpc.Unmarshal(c.Params, &p) != nil || p.Level.severity() == 0 {
		return nil, invalidParams("level must be one of debug, info, notice, warning, error, critical, alert, emergency")
	}
	c.Session.logLevel.Store(p.Level.severity())
	return emptyResult, nil
}

func (s *Server) callTool(c *Call) ([]byte, *jsonrpc.Error) {
	var p CallToolParams
	if len(c.Params) == 0 || jsonrpc.Unmarshal(c.Params, &p) != nil || p.Name == "" {
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
	bind := MethodToolsCall + "\x00" + p.Name
	if err := s.openState(c.Session, bind, &p.RequestState); err != nil {
		return nil, err
	}
	if s.tasks != nil {
		if b, jerr, ok := s.tasks.maybeTask(c, t, &p, bind); ok {
			return b, jerr
		}
	}
	ctx, done := c.Session.begin(c.ID)
	defer done()
	req := &CallToolRequest{Params: &p, Request: s.newRequest(c, p.Meta)}
	return s.runTool(ctx, req, t, bind)
}

// runTool runs a tool handler for req, round after round while a legacy
// client answers its input requests, and encodes the outcome.
func (s *Server) runTool(ctx context.Context, req *CallToolRequest, t *serverTool, bind string) ([]byte, *jsonrpc.Error) {
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
			b, answers, jerr := s.needInput(ctx, &req.Request, bind, round, res.InputRequests, res.RequestState, res.Meta)
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
		return encode(res)
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

// eraError adapts an error to the client's revision: resource-not-found
// is -32002 in 2025 sessions and -32602 at 2026-07-28.
func (s *Server) eraError(st *SessionState, je *jsonrpc.Error) *jsonrpc.Error {
	if st.stateless && je.Code == CodeResourceNotFound {
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: je.Message, Data: je.Data}
	}
	return je
}

// needInput handles a handler's input-required outcome. At 2026-07-28 it
// returns the encoded InputRequiredResult, its state sealed (2026-07-28
// basic/patterns/mrtr). In a legacy session it asks the client each input
// request itself, on the request's stream, and returns the answers for the
// next round.
func (s *Server) needInput(ctx context.Context, r *Request, bind string, round int, reqs InputRequests, state string, meta Meta) ([]byte, InputResponses, *jsonrpc.Error) {
	if !validInputRequests(reqs) {
		return nil, nil, internalError("a handler returned an input request that is not elicitation/create, sampling/createMessage or roots/list")
	}
	st := r.Session
	if missing := requiredFor(reqs, &st.ClientCapabilities); missing != nil {
		return nil, nil, MissingCapabilityError("the request needs client capabilities the client did not declare", missing)
	}
	if st.stateless {
		res := inputRequiredResult{ResultType: ResultTypeInputRequired, InputRequests: reqs, Meta: Meta{MetaServerInfo: s.impl}}
		for k, v := range meta {
			res.Meta[k] = v
		}
		if state != "" {
			res.RequestState = s.sealer.seal(bind, state)
		}
		b, jerr := encode(res)
		return b, nil, jerr
	}
	if round >= maxInputRounds {
		return nil, nil, internalError(fmt.Sprintf("the handler asked for input more than %d times", maxInputRounds))
	}
	answers := make(InputResponses, len(reqs))
	keys := make([]string, 0, len(reqs))
	for k := range reqs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ir := reqs[k]
		var raw json.RawMessage
		if err := st.call(ctx, r.outbound(), s.clientTimeout(), ir.Method, ir.Params, &raw); err != nil {
			if r.cancelled(ctx) {
				return nil, nil, ErrNoResponse
			}
			return nil, nil, jsonrpc.AsError(fmt.Errorf("asking the client (%s): %w", ir.Method, err))
		}
		answers[k] = raw
	}
	return nil, answers, nil
}

// inputRequiredResult is the wire form of InputRequiredResult.
type inputRequiredResult struct {
	ResultType    string        `json:"resultType"`
	InputRequests InputRequests `json:"inputRequests,omitempty"`
	RequestState  string        `json:"requestState,omitempty"`
	Meta          Meta          `json:"_meta,omitempty"`
}

// openState replaces a 2026-07-28 request's sealed requestState by the
// handler's plain state, or fails with CodeInvalidParams when it was
// tampered with, has expired or belongs to another request. Legacy
// requests keep theirs (the server made it itself, in the same process).
func (s *Server) openState(st *SessionState, bind string, state *string) *jsonrpc.Error {
	if !st.stateless || *state == "" {
		return nil
	}
	plain, err := s.sealer.open(bind, *state)
	if err != nil {
		return invalidParams("requestState: " + err.Error())
	}
	*state = plain
	return nil
}

func (s *Server) listPrompts(c *Call) ([]byte, *jsonrpc.Error) {
	s.mu.RLock()
	res := ListPromptsResult{Prompts: make([]*Prompt, 0, len(s.prompts))}
	for _, p := range s.prompts {
		res.Prompts = append(res.Prompts, p.prompt)
	}
	s.mu.RUnlock()
	slices.SortFunc(res.Prompts, func(a, b *Prompt) int { return cmp.Compare(a.Name, b.Name) })
	res.CacheHints = s.hints(c.Session, true)
	return encode(res)
}

func (s *Server) getPrompt(c *Call) ([]byte, *jsonrpc.Error) {
	var p GetPromptParams
	if len(c.Params) == 0 || jsonrpc.Unmarshal(c.Params, &p) != nil || p.Name == "" {
		return nil, invalidParams("prompts/get needs params with a prompt name, and arguments (if any) an object of strings")
	}
	s.mu.RLock()
	sp := s.prompts[p.Name]
	s.mu.RUnlock()
	if sp == nil {
		return nil, invalidParams("unknown prompt: " + p.Name)
	}
	for _, a := range sp.prompt.Arguments {
		if _, ok := p.Arguments[a.Name]; a.Required && !ok {
			return nil, invalidParams(fmt.Sprintf("prompt %q needs the argument %q", p.Name, a.Name))
		}
	}
	bind := MethodPromptsGet + "\x00" + p.Name
	if err := s.openState(c.Session, bind, &p.RequestState); err != nil {
		return nil, err
	}
	ctx, done := c.Session.begin(c.ID)
	defer done()
	req := &GetPromptRequest{Params: &p, Request: s.newRequest(c, p.Meta)}
	for round := 0; ; round++ {
		res, err := safeCall(func() (*GetPromptResult, error) { return sp.handler(ctx, req) })
		if req.cancelled(ctx) {
			return nil, ErrNoResponse
		}
		if err != nil {
			return nil, s.eraError(c.Session, jsonrpc.AsError(err))
		}
		if res == nil {
			res = &GetPromptResult{}
		}
		if len(res.InputRequests) > 0 || res.RequestState != "" {
			b, answers, jerr := s.needInput(ctx, &req.Request, bind, round, res.InputRequests, res.RequestState, res.Meta)
			if b != nil || jerr != nil {
				return b, jerr
			}
			p.InputResponses, p.RequestState = answers, res.RequestState
			continue
		}
		if res.Messages == nil {
			res.Messages = []*PromptMessage{}
		}
		res.CacheHints = s.withHints(c.Session, res.CacheHints, false)
		return encode(res)
	}
}

// safeCall runs f, turning a panic into an internal error.
func safeCall[T any](f func() (T, error)) (res T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = internalError(fmt.Sprintf("handler panicked: %v", r))
		}
	}()
	return f()
}

func (s *Server) listResources(c *Call) ([]byte, *jsonrpc.Error) {
	s.mu.RLock()
	res := ListResourcesResult{Resources: make([]*Resource, 0, len(s.resources))}
	for _, r := range s.resources {
		res.Resources = append(res.Resources, r.resource)
	}
	s.mu.RUnlock()
	slices.SortFunc(res.Resources, func(a, b *Resource) int { return cmp.Compare(a.URI, b.URI) })
	res.CacheHints = s.hints(c.Session, true)
	return encode(res)
}

func (s *Server) listTemplates(c *Call) ([]byte, *jsonrpc.Error) {
	s.mu.RLock()
	res := ListResourceTemplatesResult{ResourceTemplates: make([]*ResourceTemplate, 0, len(s.templates))}
	for _, t := range s.templates {
		res.ResourceTemplates = append(res.ResourceTemplates, t.template)
	}
	s.mu.RUnlock()
	res.CacheHints = s.hints(c.Session, true)
	return encode(res)
}

// findResource returns the handler for uri: its resource's, else the
// first matching template's.
func (s *Server) findResource(uri string) ResourceHandler {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r := s.resources[uri]; r != nil {
		return r.handler
	}
	for _, t := range s.templates {
		if t.match(uri) {
			return t.handler
		}
	}
	return nil
}

func (s *Server) readResource(c *Call) ([]byte, *jsonrpc.Error) {
	var p ReadResourceParams
	if len(c.Params) == 0 || jsonrpc.Unmarshal(c.Params, &p) != nil || p.URI == "" {
		return nil, invalidParams("resources/read needs params with a uri")
	}
	h := s.findResource(p.URI)
	if h == nil {
		return nil, s.eraError(c.Session, ResourceNotFoundError(p.URI))
	}
	bind := MethodResourcesRead + "\x00" + p.URI
	if err := s.openState(c.Session, bind, &p.RequestState); err != nil {
		return nil, err
	}
	ctx, done := c.Session.begin(c.ID)
	defer done()
	req := &ReadResourceRequest{Params: &p, Request: s.newRequest(c, p.Meta)}
	for round := 0; ; round++ {
		res, err := safeCall(func() (*ReadResourceResult, error) { return h(ctx, req) })
		if req.cancelled(ctx) {
			return nil, ErrNoResponse
		}
		if err != nil {
			return nil, s.eraError(c.Session, jsonrpc.AsError(err))
		}
		if res == nil || (len(res.InputRequests) == 0 && res.RequestState == "" && len(res.Contents) == 0) {
			// 2026-07-28 server/resources: "Servers MUST NOT return an
			// empty contents array for a non-existent resource."
			return nil, s.eraError(c.Session, ResourceNotFoundError(p.URI))
		}
		if len(res.InputRequests) > 0 || res.RequestState != "" {
			b, answers, jerr := s.needInput(ctx, &req.Request, bind, round, res.InputRequests, res.RequestState, res.Meta)
			if b != nil || jerr != nil {
				return b, jerr
			}
			p.InputResponses, p.RequestState = answers, res.RequestState
			continue
		}
		res.CacheHints = s.withHints(c.Session, res.CacheHints, true)
		return encode(res)
	}
}

// subscribe answers resources/subscribe (2025-11-25 server/resources
// §Subscriptions).
func (s *Server) subscribe(c *Call) ([]byte, *jsonrpc.Error) {
	uri, jerr := subscribeURI(c)
	if jerr != nil {
		return nil, jerr
	}
	c.Session.subscribe(uri)
	return emptyResult, nil
}

// unsubscribe answers resources/unsubscribe.
func (s *Server) unsubscribe(c *Call) ([]byte, *jsonrpc.Error) {
	uri, jerr := subscribeURI(c)
	if jerr != nil {
		return nil, jerr
	}
	c.Session.unsubscribe(uri)
	return emptyResult, nil
}

// subscribeURI returns the uri of resources/subscribe and
// resources/unsubscribe params.
func subscribeURI(c *Call) (string, *jsonrpc.Error) {
	var p SubscribeParams
	if len(c.Params) == 0 || jsonrpc.Unmarshal(c.Params, &p) != nil || p.URI == "" {
		return "", invalidParams(c.Method + " needs params with a uri")
	}
	return p.URI, nil
}

func (s *Server) complete(c *Call) ([]byte, *jsonrpc.Error) {
	var p CompleteParams
	if len(c.Params) == 0 || jsonrpc.Unmarshal(c.Params, &p) != nil || p.Ref.Type == "" {
		return nil, invalidParams("completion/complete needs params with a ref and an argument")
	}
	switch p.Ref.Type {
	case "ref/prompt", "ref/resource":
	default:
		return nil, invalidParams("ref.type must be ref/prompt or ref/resource")
	}
	ctx, done := c.Session.begin(c.ID)
	defer done()
	req := &CompleteRequest{Params: &p, Request: s.newRequest(c, p.Meta)}
	res, err := safeCall(func() (*CompleteResult, error) { return s.opts.CompletionHandler(ctx, req) })
	if req.cancelled(ctx) {
		return nil, ErrNoResponse
	}
	if err != nil {
		return nil, s.eraError(c.Session, jsonrpc.AsError(err))
	}
	if res == nil {
		res = &CompleteResult{}
	}
	if res.Completion.Values == nil {
		res.Completion.Values = []string{}
	}
	if len(res.Completion.Values) > 100 {
		res.Completion.Values = res.Completion.Values[:100]
		res.Completion.HasMore = true
	}
	res.CacheHints = s.withHints(c.Session, res.CacheHints, false)
	return encode(res)
}

// ErrNoResponse is the error a [Conn]'s Handle or a [StatelessBackend]'s
// HandleStateless returns for a request that must not be answered: the
// client cancelled it with notifications/cancelled (2025-11-25
// basic/utilities/cancellation: the receiver SHOULD "Not send a response
// for the cancelled request"). The transport sends nothing for it: no
// message on an SSE stream, and 202 with no body when it leaves a POST
// nothing to answer.
//
// It is never sent, and its code, 0, is none that JSON-RPC or MCP assigns.
// Match it with errors.Is(err, ErrNoResponse), which compares code and
// message (see [jsonrpc.Error.Is]), never by pointer: a Conn may return
// a copy.
var ErrNoResponse = &jsonrpc.Error{Code: 0, Message: "mcp: no response: the client cancelled the request"}
