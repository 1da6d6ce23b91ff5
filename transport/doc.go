// Package transport serves the MCP Streamable HTTP transport on Fiber v2 /
// fasthttp: one endpoint for POST, GET and DELETE, as defined by
// 2025-11-25 basic/transports §Streamable HTTP (and 2025-03-26,
// 2025-06-18).
//
// # Overview
//
//	Fiber route ─▶ Handler.ServeFastHTTP ─▶ sessions.Map.Lookup ─▶ *sessions.Session
//	                    │                                               │
//	                    ├─ POST ─▶ jsonrpc.Decode ─▶ mcp.Conn.Handle ────┤ responses and
//	                    │          (application/json or SSE)            │ notifications as
//	                    ├─ GET ──▶ SSE writer ◀── sessions.Stream ◀──────┘ stream events
//	                    └─ DELETE ─▶ Session.End
//
// # Backends
//
// A Handler serves an [mcp.Backend]: an [*mcp.Server], the stdio bridge or
// the Go SDK host. Its Initialize returns the session's [mcp.Conn], which
// the session holds ([sessions.Session.Conn]); the session's requests,
// notifications and responses go to it, and the Handler closes it when the
// session ends (DELETE, idle expiry, shutdown). A backend ends a session of
// its own accord with [mcp.SessionState.Close]: the session ends with
// [sessions.EndClosed] and its ID gets 404 from then on. Initialize
// returning [mcp.ErrUnavailable] is answered as the session cap is: 503
// with Retry-After.
//
// # The 404 fast path
//
// A request that names an unknown or ended session with Mcp-Session-Id
// gets 404 and the JSON-RPC body
//
//	{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}
//
// from prebuilt bytes, before the body is decoded, with no allocation in
// this module (2025-11-25 basic/transports §Session Management: the server
// "MUST respond to requests containing that session ID with HTTP 404 Not
// Found"). The client then starts over with initialize. A POST is
// classified first: a 2026-07-28 request (by MCP-Protocol-Version or its
// _meta) never takes the session path, and an initialize carrying a stale
// ID starts a new session rather than getting 404.
//
// # Responses
//
// A POST of only notifications and responses gets 202. A POST with
// requests gets application/json when no request sends anything before its
// response, and text/event-stream from the first notification a request
// sends on (progress, logging); [Options.JSONResponse] forces JSON. Each
// SSE event has an event ID "<stream>_<seq>" (with a session store's
// broadcast log, a GET stream's events add "_<ms>-<n>", the stream's
// broadcast cursor: broadcast.go); the session keeps a bounded
// log per stream, so GET with Last-Event-ID replays what a dropped
// connection missed, of that stream only. GET opens the session's one
// standalone stream (a second gets 409). Sessions at 2025-11-25 or later
// get a priming event and a retry field first.
//
// # Streams and goroutines
//
// A POST of either era is one exchange (exchange.go): its requests, their
// responses, and the one decision, JSON or SSE; in SSE mode its events go
// to a session's resumable stream or, at 2026-07-28, to an in-memory
// queue. Every SSE event is framed by sseFramer (sse.go). A POST answered
// with SSE is written through fasthttp's body stream writer (see
// writeSSE), so its connection stays reusable afterwards. A
// GET stream is long-lived, so it is written on the connection fasthttp
// hands over (Hijack; [NewApp] sets KeepHijackedConns) by an event-driven
// writer (sseConn): while it has nothing to send it holds no goroutine and
// no fasthttp buffers, about 1 KB in all (bench BenchmarkMemory). A new
// event wakes it, and a pump writes on one of the reusable call workers;
// one ticker sends the keep-alives of all GET streams. Calls that do not
// run inline also run on those workers, so a goroutine whose stack grew
// for one call keeps it for the next.
//
// # Status codes
//
//	401 Options.Auth: no access token, or an invalid one (WWW-Authenticate)
//	403 Origin present and not allowed; Options.Auth: a token without a
//	    needed scope (WWW-Authenticate error="insufficient_scope")
//	404 unknown or ended session (POST, GET, DELETE, GET with Last-Event-ID)
//	400 missing Mcp-Session-Id, unsupported MCP-Protocol-Version, invalid
//	    JSON (-32700) or JSON-RPC (-32600), batch outside 2025-03-26,
//	    initialize in a batch, unknown Last-Event-ID
//	405 other methods (Allow: GET, POST, DELETE); GET/DELETE at 2026-07-28
//	406 Accept admits neither application/json nor text/event-stream
//	    (GET: not text/event-stream)
//	409 a second GET stream (on any node, with a session store that
//	    keeps GET stream claims)
//	413 body over Options.MaxBodyBytes
//	415 Content-Type not application/json
//	503 session cap reached, or draining (with Retry-After); a token
//	    that could not be verified; with a session store, the store
//	    cannot be reached for a session not held here, or this node is
//	    draining and the session lives on elsewhere (with Retry-After)
//
// # Several nodes
//
// With a session store (sessions.Options.Store; redisstore), every node
// serves every session ([sessions.Map.Resolve]), and what a request
// concerns on another node goes there through the store: a response to a
// request another node sent the client, a notifications/cancelled
// (relay.go); messages for the GET stream another node holds, and the
// rule of one GET stream (getclaims.go); a POST stream another node
// wrote is resumed from the store's copy of its events
// ([sessions.Session.ResumeStream]), and a GET stream another node held
// is taken over with the events it logged after the client's
// Last-Event-ID ([sessions.Session.TakeOverGET]). A node that shuts down answers 503,
// never 404, for the sessions it lets go.
//
// # Authorization
//
// With [Options.Auth] every request is authenticated right after the
// framing and Origin checks, sessions are bound to their principal
// (another principal's token naming one gets the unknown-session 404),
// per-request scopes are checked before a POST runs, and the Protected
// Resource Metadata is served; see auth.go and package auth.
//
// # Shutdown
//
// [Handler.Shutdown] is an ordered drain; see its documentation.
package transport
