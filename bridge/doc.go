// Package bridge serves a stdio MCP server (any `npx …`, `uvx …` or binary
// that speaks MCP on stdin/stdout) behind mcpfiber's Streamable HTTP
// transport: a [Bridge] is an [mcp.Backend] that gives each session its own
// child process.
//
// # Overview
//
//	client ──POST/GET/DELETE──▶ transport.Handler ──▶ Bridge ──stdin──▶ child (one per session)
//	       ◀──JSON or SSE─────                     ◀──────── ◀─stdout── (newline-delimited JSON-RPC)
//	                                                          ◀─stderr── → slog, tagged with the session
//
// # Sessions and children
//
// A child starts when a client sends initialize: the client's initialize
// params are forwarded (under the JSON-RPC id 0, the only id the bridge
// chooses) and the child's result is the client's result, so the
// negotiated version, capabilities and serverInfo are the child's
// (2025-11-25 basic/lifecycle §Initialization). The child ends when its
// session does: DELETE, idle expiry, server shutdown. It is stopped as
// 2025-11-25 basic/transports §stdio asks of a client: its stdin is closed,
// then SIGTERM after [Options.StopTimeout], then SIGKILL after another;
// signals go to its process group, so an `npx` wrapper takes its node
// process along. A child that exits (or crashes) ends its session
// ([sessions.EndClosed]): the client's next request gets 404 and it starts
// over with initialize (2025-11-25 basic/transports §Session Management).
//
// At most [Options.MaxChildren] children live at once (default: 8 per
// CPU, 16 on a 2-core box); past the cap, initialize gets 503 with
// Retry-After ([mcp.ErrUnavailable]) before any process starts.
//
// # Messages
//
// Every JSON-RPC id is passed through untouched, both ways. Client
// requests, notifications and responses are written to the child's stdin
// in the order the transport hands them over, one writer at a time. What
// the child writes is routed as it comes, in order, by one reader per
// child:
//
//   - a response goes to the client request with that id, which the
//     transport answers (as application/json or on the POST's SSE stream);
//   - notifications/progress goes to the POST stream of the request whose
//     _meta.progressToken it names;
//   - another notification or a request of the child's (sampling,
//     elicitation, roots, ping) goes to the POST stream of the one client
//     request in flight, if exactly one is, since it then most likely
//     relates to it (2025-11-25 basic/transports §Sending Messages to the
//     Server, item 6); otherwise to the session's GET stream (§Listening
//     for Messages from the Server). The client's answers to the child's
//     requests come back by POST and are written to the child's stdin.
//
// Messages the child writes before the session exists (some servers send
// a list_changed notification before their initialize result) wait and go
// to the GET stream once it does.
//
// # Isolation
//
// Each child has its own reader goroutines, and nothing they do waits on
// an HTTP client: messages are appended to the session's bounded stream
// logs, which never block. So a child that floods stdout costs CPU, but
// cannot stall another session; a line longer than
// [Options.MaxMessageBytes] ends its session. A child that never answers
// holds only its own session's requests, which end with the session.
// stderr is logged line by line, tagged with the session ID, at most
// [Options.StderrLinesPerSecond] lines a second per child.
//
// # Modern (2026-07-28) clients
//
// The bridge serves the session-based revisions only. A 2026-07-28
// request never reaches it: the transport answers -32022
// (UnsupportedProtocolVersion) with the supported revisions, and the
// client falls back to initialize (2026-07-28 basic/versioning; the Go and
// TypeScript SDK clients do so). A pool of pre-initialized children was
// rejected: a stdio server is stateful per connection. Its initialize
// result, and often its tool set, depend on the capabilities the client
// declared (server-everything registers its sampling tool only for clients
// that can sample); its log level, subscriptions and roots belong to one
// client; and its requests to the client (sampling, elicitation) need a
// path back to the one client that caused them. A child shared between
// stateless clients would leak one client's state into another's answers.
//
// # Several nodes
//
// A child process cannot move between processes, so the Bridge is not an
// mcp.Restorer: with a session store (--redis-url), a session it started
// is served only by the node that runs its child. Another node answers
// its ID with 404, as does every node once that node goes (its children
// stop with it), and the client starts a new session. Deployments of the
// bridge on several nodes route by Mcp-Session-Id (see the README's
// "Scale out").
//
// # Goroutines
//
// Per child, owned by the Bridge and waited for by [Bridge.Close]: a
// stdout reader (exits on EOF), a stderr reader (exits on EOF), a waiter
// (exits when the process has exited and stdout is drained, then ends the
// session and frees the slot), and, once the session ends, a stopper
// (exits when the process has). Stopping kills the process group, so the
// pipes reach EOF.
package bridge
