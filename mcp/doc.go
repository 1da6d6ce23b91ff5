// Package mcp is the Model Context Protocol method layer of mcpfiber: the
// wire types, version negotiation, and a [Server] that dispatches JSON-RPC
// requests (initialize, ping, tools/list, tools/call, logging/setLevel) to
// registered handlers.
//
// # Overview
//
//	transport ──▶ Server.Initialize / Server.Handle(ctx, *Call) ──▶ ToolHandler
//	          ◀── result bytes or *jsonrpc.Error
//	          ◀── Call.Out.Send(notification)   (progress, logging, before the response)
//
// The package knows nothing of HTTP. The transport decodes messages, keeps
// sessions, and decides how a response travels (application/json or
// text/event-stream); this package decides what it says. Names follow the
// official Go SDK where they fit (Tool, CallToolParams, CallToolResult,
// Implementation).
//
// # Revisions
//
// The 2025 revisions (2025-03-26, 2025-06-18, 2025-11-25) are the legacy
// era: stateful sessions opened by initialize. [NegotiateVersion]
// implements 2025-11-25 basic/lifecycle §Version Negotiation.
package mcp
