// Package jsonrpc frames the JSON-RPC 2.0 messages that MCP carries: it
// decodes a POST body into requests, notifications and responses, and
// appends encoded messages to byte slices for the transport to write.
//
// # Overview
//
// MCP uses JSON-RPC 2.0 with two restrictions (2025-11-25 basic §Messages):
// request IDs are a string or an integer and never null, and notifications
// carry no ID. [Decode] enforces both and reports violations as an [*Error]
// whose code says how the transport must answer: [CodeParseError] for bytes
// that are not JSON, [CodeInvalidRequest] for JSON that is not a JSON-RPC
// message.
//
// A body may be a JSON array (a batch). Only sessions negotiated at
// 2025-03-26 may send batches (2025-03-26 basic §Batching); Decode accepts
// arrays and reports them, and the transport decides.
//
// # Encoding
//
// The Append* functions write a complete message into a caller-owned buffer
// and never escape it; they allocate only when the buffer must grow. IDs are
// kept as their raw JSON bytes so that a response echoes the request's ID
// with its original type (string or number), as MCP requires.
package jsonrpc
