// Package mcp is the Model Context Protocol method layer of mcpfiber: the
// wire types, version negotiation, and a [Server] that holds tools,
// resources, resource templates, prompts and a completion handler and
// answers the requests of every revision on one endpoint.
//
// # Overview
//
//	transport ──▶ Backend.Initialize ─▶ Conn (one per session)     2025 sessions
//	          ──▶ Conn.Handle(*Call), Conn.Notify, Conn.Close
//	          ──▶ Server.HandleStateless(*StatelessCall)           2026-07-28
//	          ◀── result bytes or *jsonrpc.Error
//	          ◀── Call.Out.Send(msg)   progress, logging, requests to the client
//	          ──▶ Conn.Deliver         the client's answers, by request id
//
// The package knows nothing of HTTP. The transport decodes messages, keeps
// sessions, and decides how a response travels (application/json or
// text/event-stream); this package decides what it says. Names follow the
// official Go SDK where they fit (Tool, CallToolRequest, CallToolResult,
// Resource, Prompt, ElicitParams, CreateMessageParams, Implementation).
//
// # Sessions
//
// A [Backend] ([*Server], the stdio bridge, the Go SDK host) answers
// initialize with a [Conn]: its connection for that session, which holds
// the session's [SessionState] and whatever else the backend keeps per
// session (a child process, an SDK session). The transport hands the
// session's messages to the Conn and closes it when the session ends
// (2025-11-25 basic/transports §Session Management).
//
// A [SessionRecord] is the session as plain data (negotiated version,
// client info and capabilities, log level, subscriptions, times, and the
// authenticated [Principal] it is bound to), encoded with
// [SessionRecord.MarshalBinary]: what a session store keeps so that a node
// that did not start a session can rebuild it ([RestoreSessionState]).
// A 2026-07-28 request's own state is made from the same fields, as its
// _meta declares them.
//
// With authorization on, the transport binds each session to the
// principal of the token that started it ([SessionState.SetPrincipal]),
// hands every request its token's principal ([Request.Principal]), and
// checks the Scopes a [Tool], [Prompt] or [Resource] declares before the
// request runs ([ScopeRequirer]).
//
// # Revisions
//
// The 2025 revisions (2025-03-26, 2025-06-18, 2025-11-25) are the legacy
// era: stateful sessions opened by initialize ([NegotiateVersion]
// implements 2025-11-25 basic/lifecycle §Version Negotiation). A handler
// may ask the client for input during a call ([Request.Elicit],
// [Request.CreateMessage], [Request.ListRoots]): the request goes out on
// the call's own stream (or the session's GET stream), the client POSTs
// its answer, and the session's [Conn] hands it to the waiting handler,
// within ServerOptions.ClientRequestTimeout.
//
// 2026-07-28 is stateless: every request carries its protocol version and
// client capabilities in _meta and standard headers (Mcp-Method, Mcp-Name,
// Mcp-Param-*), which [Server.HandleStateless] checks; results carry
// resultType and caching hints; subscriptions/listen replaces the GET
// stream. Servers may not send requests to such clients: a handler that
// needs input returns InputRequests (and state) in its result instead, the
// client answers in a new request, and the state travels sealed with
// AES-256-GCM ([ServerOptions].StateKey). The same handler serves a 2025
// session: there the server asks the client itself and calls it again.
//
// # Capabilities
//
// The server declares what is registered (tools, prompts, resources with
// subscriptions, completions with a handler; logging always) and answers
// -32601 for the rest. It never asks a client for what the client did not
// declare: such a request fails with [MissingCapabilityError] before
// anything is sent.
//
// # Typed tools and prompts
//
// [AddTool] infers a tool's input and output schemas from Go types and
// decodes its arguments into In; [AddPrompt] infers a prompt's arguments
// list from a struct of strings. Every tool's arguments are validated
// against its input schema before its handler runs (2025-11-25
// server/tools §Error Handling); a refusal is a tool result with isError
// that names the failing value, its keyword and its schema location
// ("at arguments/items/2/name: type: ... (schema ...)"), so that the
// model can correct the call. Lists, and a 2025-11-25 session's
// tasks/list, come in pages ([DefaultPageSize]).
//
// # Tasks
//
// With ServerOptions.Tasks, tools that declare task support may run as
// tasks for 2026-07-28 clients that declare the tasks extension
// ([TasksExtension]), and for 2025-11-25 sessions that ask for one with
// params.task (that revision's experimental tasks capability, with
// tasks/result, tasks/list and notifications/tasks/status). Both use one
// task store; see [TaskOptions].
package mcp
