package mcp

import (
	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// JSON-RPC error codes MCP defines beyond JSON-RPC 2.0's.
const (
	// CodeResourceNotFound is the 2025 revisions' resource-not-found code
	// (2025-11-25 server/resources §Error Handling). 2026-07-28 uses
	// CodeInvalidParams instead and must not send it.
	CodeResourceNotFound = -32002
	// CodeHeaderMismatch is HeaderMismatchError: a standard or custom
	// header is missing or does not match the body (2026-07-28
	// basic/transports §Server Validation). HTTP 400.
	CodeHeaderMismatch = -32020
	// CodeMissingRequiredClientCapability is
	// MissingRequiredClientCapabilityError, with
	// data.requiredCapabilities (2026-07-28 basic §Error Codes). HTTP 400.
	CodeMissingRequiredClientCapability = -32021
	// CodeUnsupportedProtocolVersion is UnsupportedProtocolVersionError,
	// with data.supported and data.requested. HTTP 400.
	CodeUnsupportedProtocolVersion = jsonrpc.CodeUnsupportedProtocolVersion
)

// ResourceNotFoundError returns the error a [ResourceHandler] returns for
// a URI it does not know. The server sends it with the code of the
// client's revision: -32002 in 2025 sessions, -32602 at 2026-07-28
// (server/resources: "servers MUST return a JSON-RPC error with code
// -32602"), with data.uri either way.
func ResourceNotFoundError(uri string) *jsonrpc.Error {
	data, _ := jsonrpc.Marshal(map[string]string{"uri": uri})
	return &jsonrpc.Error{Code: CodeResourceNotFound, Message: "Resource not found: " + uri, Data: data}
}

func invalidParams(msg string) *jsonrpc.Error {
	return jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: "+msg)
}

func methodNotFound(method string) *jsonrpc.Error {
	return jsonrpc.NewError(jsonrpc.CodeMethodNotFound, "Method not found: "+method)
}

func internalError(msg string) *jsonrpc.Error {
	return jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: "+msg)
}
