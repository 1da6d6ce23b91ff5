package jsonrpc

import (
	"errors"
	"strconv"

	json "github.com/goccy/go-json"
)

// Standard JSON-RPC 2.0 error codes (JSON-RPC 2.0 §5.1) and the codes MCP
// and its SDKs give meaning to.
const (
	// CodeParseError: the body is not valid JSON.
	CodeParseError = -32700
	// CodeInvalidRequest: the JSON is not a valid JSON-RPC message.
	CodeInvalidRequest = -32600
	// CodeMethodNotFound: the method does not exist or is not available.
	CodeMethodNotFound = -32601
	// CodeInvalidParams: invalid method parameters (MCP also uses it for an
	// unknown tool, an invalid log level and an invalid cursor).
	CodeInvalidParams = -32602
	// CodeInternalError: an internal JSON-RPC error.
	CodeInternalError = -32603

	// CodeServerError is the generic implementation-defined server error
	// the MCP SDKs use for transport-level refusals (406, 415, 400, 409,
	// 405, 403).
	CodeServerError = -32000
	// CodeSessionNotFound is the code the MCP SDKs send with HTTP 404 for an
	// unknown or ended session.
	CodeSessionNotFound = -32001
	// CodeUnsupportedProtocolVersion is UnsupportedProtocolVersionError
	// (2026-07-28 basic §Error Codes), sent with data.supported and
	// data.requested.
	CodeUnsupportedProtocolVersion = -32022
)

// An Error is a JSON-RPC error object (JSON-RPC 2.0 §5.1). It implements
// error, so handlers may return it to choose the code a client sees.
type Error struct {
	Code    int64           `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// NewError returns an [*Error] with the given code and message.
func NewError(code int64, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Error implements error.
func (e *Error) Error() string {
	return "jsonrpc: " + e.Message + " (code " + strconv.FormatInt(e.Code, 10) + ")"
}

// Is reports whether e matches target, an [*Error], by value: the same
// code and, when target has a message, the same message. Data is not
// compared, and neither are pointers, so a copy of a sentinel matches it.
//
// A target with a code alone matches every error with that code:
// errors.Is(err, &Error{Code: CodeInvalidParams}). A sentinel with a
// message (mcp.ErrNoResponse, mcp.ErrUnavailable) matches only
// errors with its code and message: many errors share a code (every
// refusal of the transport's is CodeServerError), and a code alone would
// make any of them the sentinel. A nil e matches nothing.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e != nil && t != nil && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// AsError returns err as an [*Error]: err itself when it is one (or wraps
// one), else an internal error (CodeInternalError) carrying err's text.
func AsError(err error) *Error {
	var je *Error
	if errors.As(err, &je) {
		return je
	}
	return &Error{Code: CodeInternalError, Message: err.Error()}
}
