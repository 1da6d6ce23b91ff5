package transport

import (
	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// ErrUnavailable is what a [mcp.Backend]'s Initialize returns when it
// cannot take another session now, for instance the stdio bridge at its cap
// on live child processes. The transport then answers as it does past
// [sessions.Options.MaxSessions]: 503 with Retry-After
// (Options.RetryAfter) and this error as the JSON-RPC body; no session
// starts. Return this value itself: the transport compares identity.
var ErrUnavailable = jsonrpc.NewError(jsonrpc.CodeServerError, "Service Unavailable: too many sessions, try again later")

// A SessionStarter is a [mcp.Backend] that wants to know the ID of each
// session it initialized (to tag its logs, say). The transport calls
// SessionStarted once the session is in the map and
// [mcp.SessionState.Send] works, before the initialize response is written.
// It must not block.
//
// A Backend ends a session of its own accord (a bridge child exited) by
// calling [mcp.SessionState.Close]: the transport then ends the session
// with [sessions.EndClosed], and its ID gets 404 from then on.
type SessionStarter interface {
	SessionStarted(st *mcp.SessionState, id string)
}
