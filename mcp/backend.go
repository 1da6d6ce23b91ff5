package mcp

import (
	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A Backend answers the JSON-RPC messages of legacy (session-based)
// clients for the transport. [*Server] is the Backend of handlers written
// in Go; a bridge to another MCP server (a stdio child process) and a host
// for a Go SDK server are others.
//
// The transport calls Initialize once per session (2025-11-25
// basic/lifecycle §Initialization); the [Conn] it returns carries the rest
// of the session. See also [StatelessBackend] for 2026-07-28 requests.
type Backend interface {
	// Initialize answers initialize: the encoded result and the new
	// session's connection, or a JSON-RPC error (then no session starts and
	// conn is nil). [ErrUnavailable] means the backend is at its own cap.
	Initialize(params json.RawMessage) (result []byte, conn Conn, err *jsonrpc.Error)
	// Inline reports whether requests for method are answered at once and
	// send nothing first, so they may run on the HTTP request's goroutine.
	Inline(method string) bool
}

// An InlineCaller is a [Backend] (or a [StatelessBackend]) some of whose
// requests are answered at once although their method is not (the
// backend's Inline or InlineStateless says false): [Server.InlineCall],
// for the tools registered with [Tool.Inline]. The transport then runs
// the request on the HTTP request's goroutine. InlineCall must not
// retain params and should not allocate: it runs for every request that
// is not inline by its method.
type InlineCaller interface {
	InlineCall(method string, params []byte) bool
}

// A Conn is a [Backend]'s connection for one session, from initialize to
// the session's end (2025-11-25 basic/transports §Session Management). It
// holds what the backend keeps per session (the [Server]'s session state,
// the stdio bridge's child process, the Go SDK's server session), so a
// backend needs no registry of its own keyed by session.
//
// After Initialize, the transport calls Handle for each request (on its
// own goroutine unless [Backend.Inline] says otherwise), Notify for each
// notification and Deliver for each response the client sends, all
// possibly concurrently. It calls Close once when the session ends
// (DELETE, idle expiry, shutdown, or the backend's own end: see
// [SessionState.Close]).
//
// A later session store keeps [Conn.State]'s [SessionRecord]; a node that
// did not start the session rebuilds its Conn from that record.
type Conn interface {
	// State returns the session's state; the same value for the Conn's
	// whole life.
	State() *SessionState
	// Handle answers a request of the session (not initialize); c.Session
	// is State(). It returns the encoded result or a JSON-RPC error; an
	// error for which [IsCancelled] is true means no response may be sent.
	Handle(c *Call) (result []byte, err *jsonrpc.Error)
	// Notify takes a notification from the client. params may alias the
	// request body: Notify copies what it keeps beyond the call.
	Notify(method string, params json.RawMessage)
	// Deliver takes a response from the client to a request the server
	// sent it. m may alias the request body, as params of Notify.
	Deliver(m *jsonrpc.Message)
	// Close ends the session on the backend's side: it closes State() (so
	// requests in flight are cancelled) and releases what the backend
	// keeps for the session. Only the first call has an effect; it does
	// not block on the backend's peer and always returns nil.
	Close() error
}

// A Restorer is a [Backend] that can serve a session another process
// started: Restore rebuilds the session's [Conn] from its record, as kept
// by a session store (2025-11-25 basic/transports §Session Management;
// see [SessionRecord]). [*Server] is one: its sessions are plain data. A
// backend whose sessions hold something a record cannot carry (a stdio
// child process, an SDK's server session) is not, and its sessions are
// served only by the process that started them: elsewhere their ID gets
// 404, and the client starts a new session.
//
// The transport calls Restore the first time a process sees a session
// it did not start, then treats the Conn as if Initialize had returned it
// (but sends no initialize result). An error means the session cannot be
// served here; the client gets 404.
type Restorer interface {
	Restore(r *SessionRecord) (Conn, error)
}

// A SessionStarter is a [Conn] that wants to know its session's ID (to
// tag its logs, or as the ID an SDK session reports). The transport calls
// SessionStarted once the session is in its map and [SessionState.Send]
// works, before the initialize response is written. It must not block.
type SessionStarter interface {
	SessionStarted(id string)
}

// ErrUnavailable is what a [Backend]'s Initialize returns when it cannot
// take another session now: the stdio bridge at its cap on live child
// processes, or a backend that is closing. The transport then answers as it
// does past its own session cap: 503 with Retry-After and this error as
// the JSON-RPC body (code -32000); no session starts.
//
// The transport matches it with errors.Is, which for a sentinel with a
// message compares code and message ([jsonrpc.Error.Is]): a copy works,
// and another -32000 error a backend passes through (a child server's
// own) does not become 503.
var ErrUnavailable = jsonrpc.NewError(jsonrpc.CodeServerError, "Service Unavailable: too many sessions, try again later")

// serverConn is the [Conn] of a [Server]'s session: the Server and the
// session's state.
type serverConn struct {
	s  *Server
	st *SessionState
}

func (c *serverConn) State() *SessionState { return c.st }

func (c *serverConn) Handle(call *Call) ([]byte, *jsonrpc.Error) { return c.s.handle(call) }

func (c *serverConn) Notify(method string, params json.RawMessage) {
	c.s.notify(c.st, method, params)
}

func (c *serverConn) Deliver(m *jsonrpc.Message) { c.s.deliver(c.st, m) }

func (c *serverConn) Close() error {
	c.st.Close()
	return nil
}

// Interface guards.
var (
	_ Backend  = (*Server)(nil)
	_ Restorer = (*Server)(nil)
	_ Conn     = (*serverConn)(nil)
)
