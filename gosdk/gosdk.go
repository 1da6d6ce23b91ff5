// Package gosdk serves a server built with the official MCP Go SDK
// (github.com/modelcontextprotocol/go-sdk, *mcp.Server) on mcpfiber's
// Streamable HTTP transport: a Go SDK user swaps the SDK's
// StreamableHTTPHandler for [NewHandler] and keeps every tool, resource,
// prompt and middleware.
//
// # Overview
//
//	client ──HTTP──▶ transport.Handler ──▶ Backend ──in-memory Connection──▶ sdk.ServerSession ──▶ your tools
//	       ◀─JSON/SSE─                 ◀── (Write: responses, notifications, server requests) ◀──
//
// Each session is one [sdk.Server.Connect] over an in-memory
// [sdk.Connection] (the SDK's Transport/Connection interfaces): client
// messages are handed to the SDK's Read as decoded JSON-RPC messages, and
// what the SDK Writes is routed to the right stream:
//
//   - a response goes to the client request with that id;
//   - a notification or request the SDK sends while handling a client
//     request (progress, logging, sampling, elicitation, roots) goes to that
//     request's POST stream: New adds a receiving middleware to the server
//     that marks each request's context, so a Write made with that context
//     (as the SDK's session methods are) finds its request;
//   - anything else goes to the session's GET stream.
//
// A session ends when the client DELETEs it, it idles out or the server
// shuts down (the SDK session's connection is closed), and also when the
// SDK side closes the connection ([sdk.ServerSession.Close]): the client's
// next request then gets 404. [sdk.ServerSession.ID] is the
// Mcp-Session-Id.
//
// # Limits
//
// The session-based revisions are served (2025-03-26 to 2025-11-25); a
// 2026-07-28 request gets -32022 from the transport and the client falls
// back to initialize, as the SDK's own client does. Request handlers see
// [sdk.RequestExtra] without the HTTP headers (the transport does not pass
// them to a backend); with authorization on (transport.Options.Auth) its
// TokenInfo is filled from the verified token (see tokenInfo). JSON-RPC ids are converted by the SDK
// as its own transports convert them (integers beyond 2^53 lose
// precision); the responses carry the client's id bytes untouched.
//
// An SDK server session lives in the process that made it, so the backend
// is not an mcp.Restorer: with a session store (--redis-url), only the
// node that started a session serves it; other nodes, and every node
// once that one goes, answer its ID with 404, and the client starts a new
// session. Route such deployments by Mcp-Session-Id.
package gosdk

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"
	sdkauth "github.com/modelcontextprotocol/go-sdk/auth"
	sdkjsonrpc "github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/transport"
)

// Options configure a [Backend]. A nil *Options means defaults.
type Options struct {
	// InitTimeout bounds the wait for the SDK's initialize result.
	// Default: 10s.
	InitTimeout time.Duration
	// MaxPendingMessages bounds the messages the SDK sends on a session's
	// GET stream before the session exists; past it the oldest are
	// dropped. Default: 256.
	MaxPendingMessages int
	// Logger receives the adapter's diagnostics. Default: slog.Default().
	Logger *slog.Logger
}

// Defaults used where [Options] fields are zero.
const (
	DefaultInitTimeout        = 10 * time.Second
	DefaultMaxPendingMessages = 256
)

// A Backend is an [mcp.Backend] that serves a Go SDK [sdk.Server]: each
// session's [mcp.Conn] is its in-memory SDK connection. It is safe for
// concurrent use and must not be copied.
type Backend struct {
	server *sdk.Server
	opts   Options
	conns  mcp.ConnSet // every conn not yet closed, and one goroutine per closed SDK session until its Wait returns

	mu     sync.Mutex                     // guards extras
	extras map[*sdk.RequestExtra]*pending // client requests in flight, by the Extra the middleware sees
}

// New returns a Backend serving s. It adds one receiving middleware to s
// (see the package documentation), which passes other transports'
// requests through untouched. A nil opts means defaults.
func New(s *sdk.Server, opts *Options) *Backend {
	b := &Backend{
		server: s,
		extras: make(map[*sdk.RequestExtra]*pending),
	}
	if opts != nil {
		b.opts = *opts
	}
	if b.opts.InitTimeout <= 0 {
		b.opts.InitTimeout = DefaultInitTimeout
	}
	if b.opts.MaxPendingMessages <= 0 {
		b.opts.MaxPendingMessages = DefaultMaxPendingMessages
	}
	if b.opts.Logger == nil {
		b.opts.Logger = slog.Default()
	}
	s.AddReceivingMiddleware(b.middleware)
	return b
}

// NewHandler returns a [transport.Handler] serving s: the drop-in for the
// SDK's StreamableHTTPHandler. Mount it with [transport.NewApp] (or
// Handler.Register on a Fiber app of your own). A nil topts means the
// transport's defaults.
func NewHandler(s *sdk.Server, topts *transport.Options) *transport.Handler {
	return transport.NewHandler(New(s, nil), topts)
}

// callKey marks a request handler's context with its client request.
type callKey struct{}

// middleware puts the client request's *pending in the handler's context,
// so that the SDK's Writes made with it reach the request's POST stream.
func (b *Backend) middleware(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		if extra := req.GetExtra(); extra != nil {
			b.mu.Lock()
			p := b.extras[extra]
			b.mu.Unlock()
			if p != nil {
				ctx = context.WithValue(ctx, callKey{}, p)
			}
		}
		return next(ctx, method, req)
	}
}

// initID is the id of the initialize request the Backend sends the SDK.
var initID = []byte(`"mcpfiber-initialize"`)

// Initialize connects a new SDK session and forwards the client's
// initialize to it; the SDK's result is the client's, and the session's
// [mcp.Conn] is the SDK connection. Errors: [mcp.ErrUnavailable] once
// Close was called; the SDK's own (invalid params, say), passed through;
// CodeInternalError when the SDK does not answer within InitTimeout or
// answers a revision the transport does not serve.
func (b *Backend) Initialize(params json.RawMessage) ([]byte, mcp.Conn, *jsonrpc.Error) {
	var p mcp.InitializeParams
	if len(params) == 0 || jsonrpc.Unmarshal(params, &p) != nil || p.ProtocolVersion == "" {
		return nil, nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: initialize needs params with a protocolVersion string")
	}
	c := newConn(b)
	if c == nil {
		return nil, nil, mcp.ErrUnavailable
	}
	ss, err := b.server.Connect(context.Background(), connTransport{c}, nil)
	if err != nil {
		c.Close()
		return nil, nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: connecting the SDK server: "+err.Error())
	}
	c.ss.Store(ss)
	req, jerr := decodeRequest(jsonrpc.AppendRequest(nil, initID, "initialize", params))
	if jerr != nil {
		c.Close()
		return nil, nil, jerr
	}
	if !c.push(req) {
		c.Close()
		return nil, nil, errClosed
	}
	t := time.NewTimer(b.opts.InitTimeout)
	defer t.Stop()
	var resp *sdkjsonrpc.Response
	select {
	case resp = <-c.initResp:
	case <-c.done:
		return nil, nil, errClosed
	case <-t.C:
		c.Close()
		return nil, nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the SDK server did not answer initialize in time")
	}
	m, jerr := fromResponse(resp)
	if jerr != nil {
		c.Close()
		return nil, nil, jerr
	}
	if m.Error != nil {
		c.Close()
		return nil, nil, m.Error
	}
	var r struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if jsonrpc.Unmarshal(m.Result, &r) != nil || !mcp.IsLegacyVersion(r.ProtocolVersion) {
		c.Close()
		return nil, nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the SDK server answered protocol version "+r.ProtocolVersion+", which this transport does not serve with sessions")
	}
	var caps mcp.ClientCapabilities
	if len(p.Capabilities) > 0 {
		_ = jsonrpc.Unmarshal(p.Capabilities, &caps)
	}
	st := mcp.NewSessionState(r.ProtocolVersion, p.ClientInfo, caps)
	if !c.bind(st) {
		return nil, nil, errClosed
	}
	return m.Result, c, nil
}

// Inline reports whether method is answered at once by the SDK without
// sending anything first (ping and the list methods), so that it may run
// on the HTTP request's goroutine.
func (b *Backend) Inline(method string) bool {
	switch method {
	case "ping", "tools/list", "resources/list", "resources/templates/list", "prompts/list":
		return true
	}
	return false
}

// Close closes every SDK session and waits until the SDK has finished
// with them, or ctx ends (then it returns ctx.Err()). Sessions normally
// end first (the transport's Shutdown), which closes them already.
func (b *Backend) Close(ctx context.Context) error { return b.conns.Close(ctx) }

// decodeRequest decodes a request or notification the SDK's way.
func decodeRequest(raw []byte) (*sdkjsonrpc.Request, *jsonrpc.Error) {
	msg, err := sdkjsonrpc.DecodeMessage(raw)
	if err != nil {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: "+err.Error())
	}
	req, ok := msg.(*sdkjsonrpc.Request)
	if !ok {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: not a request")
	}
	return req, nil
}

// fromResponse re-encodes an SDK response and decodes it as ours, so that
// errors keep the code, message and data the SDK puts on the wire.
func fromResponse(resp *sdkjsonrpc.Response) (*jsonrpc.Message, *jsonrpc.Error) {
	raw, err := sdkjsonrpc.EncodeMessage(resp)
	if err != nil {
		return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: encoding the SDK's response: "+err.Error())
	}
	msgs, _, jerr := jsonrpc.Decode(raw)
	if jerr != nil {
		return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the SDK's response: "+jerr.Message)
	}
	return msgs[0], nil
}

var (
	errClosed      = jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the SDK session has ended")
	errDuplicateID = jsonrpc.NewError(jsonrpc.CodeInvalidRequest, "Invalid Request: a request with this id is already in flight in this session")
)

// A pending is a client request the SDK has not answered yet.
type pending struct {
	out  mcp.Outbound              // the request's POST stream
	resp chan *sdkjsonrpc.Response // the response, or nil when cancelled (cap 1)
}

// A conn is the in-memory sdk.Connection of one session.
type conn struct {
	b        *Backend
	ss       atomic.Pointer[sdk.ServerSession] // set after Connect
	id       atomic.Pointer[string]            // the Mcp-Session-Id, once known
	in       chan sdkjsonrpc.Message
	done     chan struct{} // closed by Close
	closed   atomic.Bool
	initResp chan *sdkjsonrpc.Response // cap 1

	mu       sync.Mutex // guards the fields below
	st       *mcp.SessionState
	initDone bool
	pending  map[sdkjsonrpc.ID]*pending
	out      *mcp.Backlog // GET-stream messages, held until the session takes them
}

// newConn returns a conn registered with b, or nil once b is closing.
func newConn(b *Backend) *conn {
	c := &conn{
		b:        b,
		in:       make(chan sdkjsonrpc.Message, 64),
		done:     make(chan struct{}),
		initResp: make(chan *sdkjsonrpc.Response, 1),
		pending:  make(map[sdkjsonrpc.ID]*pending),
	}
	c.out = mcp.NewBacklog(b.opts.MaxPendingMessages, func() {
		b.opts.Logger.Warn("gosdk: more messages than MaxPendingMessages before the session started; dropping the oldest")
	})
	if !b.conns.Add(c) {
		return nil
	}
	return c
}

// connTransport is the sdk.Transport of one conn.
type connTransport struct{ c *conn }

func (t connTransport) Connect(context.Context) (sdk.Connection, error) { return t.c, nil }

// bind ties the conn to its session; false if it was closed.
func (c *conn) bind(st *mcp.SessionState) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return false
	}
	c.st = st
	c.out.Bind(st)
	return true
}

// push hands a message to the SDK's Read, in order; it blocks while the
// SDK is busy (at most this session's caller) and fails once closed.
func (c *conn) push(m sdkjsonrpc.Message) bool {
	select {
	case c.in <- m:
		return true
	case <-c.done:
		return false
	}
}

// cancel stops waiting for the request a notifications/cancelled names.
func (c *conn) cancel(params []byte) {
	var p struct {
		RequestID any `json:"requestId"`
	}
	if jsonrpc.Unmarshal(params, &p) != nil {
		return
	}
	id, err := sdkjsonrpc.MakeID(p.RequestID)
	if err != nil {
		return
	}
	c.mu.Lock()
	pc := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if pc != nil {
		pc.resp <- nil // cap 1, and this is the only send now that it left pending
	}
}

// State returns the session's state (nil before bind).
func (c *conn) State() *mcp.SessionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

// SessionStarted gives the SDK session its ID (sdk.ServerSession.ID) and
// sends what the SDK wrote for the GET stream early
// ([mcp.SessionStarter]).
func (c *conn) SessionStarted(id string) {
	c.id.Store(&id)
	c.flush()
}

// Handle forwards a request to the SDK session and returns its response.
// Errors of the conn's own: CodeInvalidRequest when a request with the
// same id is in flight or the message cannot be decoded by the SDK;
// CodeInternalError when the session has ended; CodeServerError "Request
// cancelled" when the client cancelled it first.
func (c *conn) Handle(call *mcp.Call) ([]byte, *jsonrpc.Error) {
	b := c.b
	req, jerr := decodeRequest(jsonrpc.AppendRequest(nil, call.ID, call.Method, call.Params))
	if jerr != nil {
		return nil, jerr
	}
	extra := &sdk.RequestExtra{TokenInfo: tokenInfo(call.Principal)}
	req.Extra = extra
	p := &pending{out: call.Out, resp: make(chan *sdkjsonrpc.Response, 1)}
	c.mu.Lock()
	if c.pending[req.ID] != nil {
		c.mu.Unlock()
		return nil, errDuplicateID
	}
	c.pending[req.ID] = p
	c.out.Flush()
	c.mu.Unlock()
	b.mu.Lock()
	b.extras[extra] = p
	b.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.pending[req.ID] == p {
			delete(c.pending, req.ID)
		}
		c.mu.Unlock()
		b.mu.Lock()
		delete(b.extras, extra)
		b.mu.Unlock()
	}()
	if !c.push(req) {
		return nil, errClosed
	}
	select {
	case resp := <-p.resp:
		if resp == nil {
			return nil, mcp.ErrNoResponse
		}
		m, jerr := fromResponse(resp)
		if jerr != nil {
			return nil, jerr
		}
		if m.Error != nil {
			return nil, m.Error
		}
		return m.Result, nil
	case <-call.Session.Context().Done():
		return nil, errClosed
	}
}

// Notify forwards a client notification to the SDK session. For
// notifications/cancelled it also stops waiting for the cancelled request
// (the SDK cancels its handler).
func (c *conn) Notify(method string, params json.RawMessage) {
	req, jerr := decodeRequest(jsonrpc.AppendNotification(nil, method, params))
	if jerr != nil {
		c.b.opts.Logger.Warn("gosdk: the SDK cannot decode a client notification; dropped", "method", method, "err", jerr.Message)
		return
	}
	req.Extra = &sdk.RequestExtra{}
	c.flush()
	if method == "notifications/cancelled" {
		c.cancel(params)
	}
	c.push(req)
}

// Deliver forwards the client's response to a request of the SDK's
// (sampling, elicitation, roots, ping).
func (c *conn) Deliver(m *jsonrpc.Message) {
	var raw []byte
	if m.Error != nil {
		raw = jsonrpc.AppendError(nil, m.ID, m.Error)
	} else {
		raw = jsonrpc.AppendResult(nil, m.ID, m.Result)
	}
	msg, err := sdkjsonrpc.DecodeMessage(raw)
	if err != nil {
		c.b.opts.Logger.Warn("gosdk: the SDK cannot decode a client response; dropped", "id", string(m.ID), "err", err)
		return
	}
	c.flush()
	c.push(msg)
}

// Read implements [sdk.Connection]: the next client message, or io.EOF
// once the session has ended.
func (c *conn) Read(ctx context.Context) (sdkjsonrpc.Message, error) {
	select {
	case m := <-c.in:
		return m, nil
	case <-c.done:
		return nil, io.EOF
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Write implements [sdk.Connection]: it routes a message of the SDK's (see
// the package documentation). It never blocks on a client.
func (c *conn) Write(ctx context.Context, msg sdkjsonrpc.Message) error {
	if c.closed.Load() {
		return sdk.ErrConnectionClosed
	}
	if resp, ok := msg.(*sdkjsonrpc.Response); ok {
		c.mu.Lock()
		if !c.initDone && isInitID(resp.ID) {
			c.initDone = true
			c.mu.Unlock()
			c.initResp <- resp // cap 1, sent once
			return nil
		}
		p := c.pending[resp.ID]
		delete(c.pending, resp.ID)
		c.mu.Unlock()
		if p != nil {
			p.resp <- resp // cap 1, and this is the only send now that it left pending
		}
		return nil
	}
	raw, err := sdkjsonrpc.EncodeMessage(msg)
	if err != nil {
		return err
	}
	if p, ok := ctx.Value(callKey{}).(*pending); ok && p.out.Send(raw) == nil {
		return nil
	}
	c.sendStandalone(raw)
	return nil
}

func isInitID(id sdkjsonrpc.ID) bool {
	s, ok := id.Raw().(string)
	return ok && s == "mcpfiber-initialize"
}

// sendStandalone sends msg on the session's GET stream, or holds it in
// order until the session exists.
func (c *conn) sendStandalone(msg []byte) { c.out.Send(msg) }

// flush sends what the SDK wrote early, once the session can take it.
func (c *conn) flush() { c.out.Flush() }

// Close implements [sdk.Connection] and [mcp.Conn]. Whoever closes first
// (the transport ending the session, or the SDK closing its session), the
// session ends: the SDK's Read gets io.EOF and the client's next request
// gets 404. It does not wait for the SDK session; [Backend.Close] does.
func (c *conn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(c.done)
	c.mu.Lock()
	st := c.st
	c.mu.Unlock()
	c.b.conns.Remove(c)
	if ss := c.ss.Load(); ss != nil {
		c.b.conns.Go(func() { _ = ss.Wait() }) // owner: the Backend (conns, Close); exit: the SDK session has finished
	}
	if st != nil {
		st.Close()
	}
	return nil
}

// SessionID implements [sdk.Connection]: the Mcp-Session-Id, or "" during
// initialize.
func (c *conn) SessionID() string {
	if p := c.id.Load(); p != nil {
		return *p
	}
	return ""
}

// Interface guards.
var (
	_ mcp.Backend        = (*Backend)(nil)
	_ mcp.Conn           = (*conn)(nil)
	_ mcp.SessionStarter = (*conn)(nil)
	_ sdk.Connection     = (*conn)(nil)
	_ sdk.Transport      = connTransport{}
)

// tokenInfo is the SDK's view of a verified token's principal, for
// [sdk.RequestExtra].TokenInfo: scopes, expiry, UserID (issuer and
// subject, what the transport binds sessions to) and, in Extra, "iss",
// "sub", "aud" and "claims" (the token's claims as JSON). Nil for none.
func tokenInfo(p *mcp.Principal) *sdkauth.TokenInfo {
	if p == nil {
		return nil
	}
	extra := map[string]any{"iss": p.Issuer, "sub": p.Subject, "aud": p.Audience}
	if len(p.Claims) > 0 {
		extra["claims"] = p.Claims
	}
	return &sdkauth.TokenInfo{
		Scopes:     p.Scopes,
		Expiration: p.Expiry,
		UserID:     p.Issuer + " " + p.Subject,
		Extra:      extra,
	}
}
