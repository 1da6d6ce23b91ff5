package mcp

import (
	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// A Backend answers the JSON-RPC messages of legacy (session-based)
// clients for the transport. [*Server] is the Backend of handlers written
// in Go; a bridge to another MCP server (a stdio child process) is
// another.
//
// The transport calls Initialize once per session, then Handle for each
// request (on its own goroutine unless Inline says otherwise), Notify for
// each notification and Deliver for each response the client sends. It
// calls SessionState.Close when the session ends.
type Backend interface {
	// Initialize answers initialize: the encoded result and the state of
	// the new session, or a JSON-RPC error (then no session starts).
	Initialize(params json.RawMessage) (result []byte, st *SessionState, err *jsonrpc.Error)
	// Inline reports whether requests for method are answered at once and
	// send nothing first, so they may run on the HTTP request's goroutine.
	Inline(method string) bool
	// Handle answers a request; see [Server.Handle].
	Handle(c *Call) (result []byte, err *jsonrpc.Error)
	// Notify takes a notification from the client.
	Notify(st *SessionState, method string, params json.RawMessage)
	// Deliver takes a response from the client to a request the server
	// sent it.
	Deliver(st *SessionState, m *jsonrpc.Message)
}

// Interface guard.
var _ Backend = (*Server)(nil)
