package mcp

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

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
	// PageSize is the most entries a page of tools/list, prompts/list,
	// resources/list and resources/templates/list holds (2025-11-25
	// server/utilities/pagination; both eras), and of tasks/list (a
	// 2025-11-25 session's tasks; 2026-07-28 has no tasks/list). Default: 1000
	// ([DefaultPageSize]), so that today's catalogs fit in one page;
	// negative: no limit, every list in one page. See [DefaultPageSize]
	// for the order of the lists and what their cursors mean.
	PageSize int
	// RequestIDPrefix, if set, makes the IDs of the requests the server
	// sends clients (sampling, elicitation, roots) JSON strings
	// "<prefix><n>" instead of the numbers 1, 2, …: with a session store,
	// several processes send requests in one session, and each needs IDs
	// of its own (server.New sets it from the store's node ID). Only
	// letters, digits, '-' and '_' (NewServer panics on others). Default:
	// "".
	RequestIDPrefix string
	// ForwardTask, if set, passes a 2026-07-28 tasks/get, tasks/update or
	// tasks/cancel for a task another process runs to that process, and
	// returns its answer: with a session store, the task's ID starts with
	// the RequestIDPrefix of the process that made it (its node), and the
	// request may land on any node. node is that prefix; req is the
	// request as received, for the other process's
	// [Server.HandleStateless]. Without it, or for an ID with this
	// process's prefix, an unknown task is -32602. server.New sets it
	// with a session store that relays calls (redisstore).
	ForwardTask func(ctx context.Context, node string, req *StatelessCall) ([]byte, *jsonrpc.Error)
	// OnNotifyAll, if set, is called after the server told its own
	// clients (unless OnNotifyAllSelf) that a list changed, a resource
	// was updated or a message was logged for every client
	// ([Server.LogAll]) (method and params as sent, params nil for
	// list_changed), so that the other processes of a deployment tell
	// theirs ([Server.NotifyAll]). It runs
	// on the goroutine that made the change and must not block. server.New
	// sets it with a session store (redisstore), whose nodes share the
	// clients.
	OnNotifyAll func(method string, params json.RawMessage)
	// OnNotifyAllSelf says that OnNotifyAll also brings the notification
	// to this process's own clients (through [Server.NotifyAll], from a
	// log every process reads in the same order): the server then does
	// not tell them first itself. server.New sets it with redisstore's
	// broadcast log. Default: false.
	OnNotifyAllSelf bool
}

// Defaults used where [ServerOptions] fields are zero.
const (
	DefaultClientRequestTimeout = 60 * time.Second
	DefaultRequestStateTTL      = 10 * time.Minute
)

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
	// anyInline is set once a Tool.Inline tool is registered (sticky):
	// until then InlineCall does not scan the params of a tools/call.
	anyInline atomic.Bool
	hasProm   bool
	hasRes    bool

	toolsList atomic.Pointer[[]byte]        // cached legacy tools/list result; nil after a change
	initRes   [3]atomic.Pointer[initResult] // encoded initialize results, by legacyIndex of the version; see initResultFor
	scoped    atomic.Bool                   // sticky: a tool, prompt or resource declared Scopes (see RequiredScopes)

	smu       sync.Mutex // guards sessions and listeners
	sessions  map[*SessionState]struct{}
	listeners map[*listener]struct{}
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
	for _, c := range []byte(s.opts.RequestIDPrefix) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			panic("mcp: ServerOptions.RequestIDPrefix: only letters, digits, '-' and '_'")
		}
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
//
// params may alias the request body: Initialize copies what it keeps. The
// result is shared by every session that negotiated the same version
// while the server declared the same capabilities (see initResultFor):
// the caller must not modify it.
func (s *Server) Initialize(params json.RawMessage) ([]byte, Conn, *jsonrpc.Error) {
	p := initParamsPool.Get().(*InitializeParams)
	defer func() {
		*p = InitializeParams{} // what it points at now belongs to the session, or is garbage
		initParamsPool.Put(p)
	}()
	if len(params) == 0 || jsonrpc.Unmarshal(params, p) != nil || p.ProtocolVersion == "" {
		return nil, nil, invalidParams("initialize needs params with a protocolVersion string")
	}
	version := NegotiateVersion(p.ProtocolVersion)
	b, jerr := s.initResultFor(version)
	if jerr != nil {
		return nil, nil, jerr
	}
	sc := new(serverSession) // the Conn and its state: one allocation
	sc.st.init(version, p.ClientInfo, decodeClientCaps(p.Capabilities))
	sc.conn = serverConn{s: s, st: &sc.st}
	s.addSession(&sc.st)
	return b, &sc.conn, nil
}

// initParamsPool holds the InitializeParams Initialize decodes into
// (escaping to the decoder, they would take an allocation each).
var initParamsPool = sync.Pool{New: func() any { return new(InitializeParams) }}

// A serverSession is what Initialize makes for a new session: its Conn
// and the state the Conn carries, in one allocation.
type serverSession struct {
	conn serverConn
	st   SessionState
}

// decodeClientCaps decodes the capabilities of an initialize request;
// unknown shapes declare nothing. It allocates nothing for none or {}, the
// common case.
func decodeClientCaps(raw json.RawMessage) ClientCapabilities {
	if len(raw) == 0 || string(raw) == "{}" {
		return ClientCapabilities{}
	}
	caps := new(ClientCapabilities) // escapes to Unmarshal
	_ = jsonrpc.Unmarshal(raw, caps)
	return *caps
}

// An initResult is an encoded initialize result and the capabilities it
// declares (capsKey).
type initResult struct {
	caps uint8
	b    []byte
}

// capsKey is what of the declared capabilities can change while the
// server runs: a bit each for tools, prompts and resources (sticky, see
// [Server.capabilities]). The rest (completions, tasks, instructions,
// serverInfo) is fixed by NewServer.
func (s *Server) capsKey() uint8 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var k uint8
	if s.hasTools {
		k |= 1
	}
	if s.hasProm {
		k |= 2
	}
	if s.hasRes {
		k |= 4
	}
	return k
}

// legacyIndex is the index of a legacy version in Server.initRes, or -1.
func legacyIndex(v string) int {
	switch v {
	case Version20251125:
		return 0
	case Version20250618:
		return 1
	case Version20250326:
		return 2
	}
	return -1
}

// initResultFor returns the encoded initialize result for the negotiated
// version: made once per version and set of declared capabilities, then
// shared (read-only). It does not allocate once the result is cached.
func (s *Server) initResultFor(version string) ([]byte, *jsonrpc.Error) {
	k, i := s.capsKey(), legacyIndex(version)
	if i >= 0 {
		if r := s.initRes[i].Load(); r != nil && r.caps == k {
			return r.b, nil
		}
	}
	res := InitializeResult{
		ProtocolVersion: version,
		Capabilities:    s.capabilities(),
		ServerInfo:      s.impl,
		Instructions:    s.opts.Instructions,
	}
	if s.tasks != nil && AtLeast(version, Version20251125) {
		res.Capabilities.Tasks = s.tasks.sessionCapability(res.Capabilities.Tools != nil)
	}
	b, err := jsonrpc.Marshal(res)
	if err != nil {
		return nil, jsonrpc.AsError(err)
	}
	if i >= 0 && k == s.capsKey() { // no feature registered meanwhile: b declares k
		s.initRes[i].Store(&initResult{caps: k, b: b})
	}
	return b, nil
}

// Restore rebuilds the Conn of a session from its record ([Restorer]):
// the state [RestoreSessionState] makes, registered with the server as a
// session Initialize started is. It fails for a record without a
// protocol version this server speaks in sessions.
func (s *Server) Restore(r *SessionRecord) (Conn, error) {
	if !IsLegacyVersion(r.ProtocolVersion) {
		return nil, fmt.Errorf("mcp: restore: protocol version %q has no sessions", r.ProtocolVersion)
	}
	st := RestoreSessionState(r)
	s.addSession(st)
	return &serverConn{s: s, st: st}, nil
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

// A Call is one JSON-RPC request of a session, for [Conn.Handle]. It
// carries room for what a tools/call holds while it runs, so a caller
// that places it in something it allocates anyway spares that
// allocation; build it in place and do not copy it once handed over.
type Call struct {
	Session *SessionState
	Method  string
	// ID is the request's raw ID. Handle registers the request under it
	// (for notifications/cancelled) without copying it, so it must not be
	// modified while Handle runs.
	ID json.RawMessage
	// Params are the request's raw params. The request's handler may
	// keep them, and strings that alias them, after Handle returns (a
	// tool's arguments and name, a task), so they must not be modified
	// once handed over.
	Params json.RawMessage
	// Out carries messages sent before the response. When nil they go to
	// the session's GET stream.
	Out Outbound
	// Principal is who sent the request: the verified access token's
	// principal, or nil when the transport does not authenticate. Within
	// a session it is the session's principal (the transport refuses
	// another), possibly with a newer token's scopes and claims.
	Principal *Principal
	// Buf, when not nil, is a buffer Handle may encode the result into,
	// appending to it, instead of allocating one: a tools/call whose
	// result takes the common encoding does. The result Handle returns
	// then starts at Buf's end, in Buf's array (see
	// [jsonrpc.AppendResultHead] for a Buf that holds the response's
	// start). Optional; the caller must not write to Buf's array beyond
	// len(Buf) while it uses the result.
	Buf []byte

	// run is what a tools/call holds while it runs (its params, the
	// handler's request, its in-flight record and context), so that a
	// Call its caller places in something allocated anyway (the
	// transport's exchange or flight) brings it along. A handler may keep
	// its request after Handle returns, so run serves one tools/call only
	// (see toolCall.taken), and a Call must not be copied while Handle
	// runs.
	run toolCall

	draining <-chan struct{}   // StatelessCall.Draining, for subscriptions/listen
	headers  map[string]string // StatelessCall.Headers, for a tasks/* request passed to another process
}

// deliver takes a response from the client to a request the server sent
// it and hands it to the handler waiting for it (the Server's
// [Conn.Deliver]). Responses nobody waits for (timed out, or never asked)
// are dropped.
func (s *Server) deliver(st *SessionState, m *jsonrpc.Message) {
	if st.deliver(m) {
		return
	}
	if relay := st.relayFunc(); relay != nil {
		var msg []byte
		if m.Error != nil {
			msg = jsonrpc.AppendError(nil, m.ID, m.Error)
		} else {
			msg = jsonrpc.AppendResult(nil, m.ID, m.Result)
		}
		relay(msg)
		return
	}
	s.opts.Logger.Debug("mcp: a response from the client matches no request", "id", string(m.ID))
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

// eraError adapts an error to the client's revision: resource-not-found
// is -32002 in 2025 sessions and -32602 at 2026-07-28.
func (s *Server) eraError(st *SessionState, je *jsonrpc.Error) *jsonrpc.Error {
	if st.stateless && je.Code == CodeResourceNotFound {
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: je.Message, Data: je.Data}
	}
	return je
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
