package jsonrpc

import (
	"errors"

	"github.com/goccy/go-json/jsontext"
	jsonv2 "github.com/goccy/go-json/v2"
)

// Unmarshal decodes JSON a peer sent into v, holding member names to what
// JSON-RPC 2.0 defines: "jsonrpc", "method", "params", "id" and the names
// of MCP's params and results are matched exactly (case-sensitive), and an
// object may not name a member twice. The text must be UTF-8 (RFC 8259
// §8.1). Unknown members are ignored.
//
// encoding/json, and the v1 API of goccy/go-json, match names ignoring
// case, the last of duplicates winning: {"method":"a","Method":"b"} is "b"
// to them and "a" (or an error) to a case-sensitive parser in front of the
// server. That difference lets a message past a gateway that checks the
// method or the tool name (the Go SDK's GHSA-wvj2-96wp-fq3f). Unmarshal is
// goccy/go-json/v2's Unmarshal with its default options, the semantics of
// encoding/json/v2. Every decode in this module of what a client, or a
// child server of the stdio bridge, sends goes through it (a Go SDK server
// behind package gosdk decodes with the SDK's own decoder), and tool
// handlers should decode their arguments with it too. Member names are
// those of 2025-11-25 basic §Messages (JSON-RPC 2.0 §4, §5).
//
// A duplicate name is reported as an error that [IsDuplicateName] tells.
// It allocates what v needs, as encoding/json does.
func Unmarshal(data []byte, v any) error {
	return jsonv2.Unmarshal(data, v)
}

// IsDuplicateName reports whether err, from [Unmarshal], is an object
// naming a member twice.
func IsDuplicateName(err error) bool {
	return errors.Is(err, jsontext.ErrDuplicateName)
}

// isSyntaxError reports whether err, from [Unmarshal], is input that is
// not JSON text (duplicate names aside).
func isSyntaxError(err error) bool {
	var se *jsontext.SyntacticError
	return errors.As(err, &se) && !IsDuplicateName(err)
}
