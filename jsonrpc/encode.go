package jsonrpc

import (
	json "github.com/goccy/go-json"

	"strconv"
	"unicode/utf8"
)

// nullID is the ID of an error response to a message whose ID could not be
// read (JSON-RPC 2.0 §5).
var nullID = []byte("null")

// AppendResult appends a success response {"jsonrpc":"2.0","id":id,"result":result}
// to dst and returns the extended slice. id and result are raw JSON; an
// empty result is written as {}. It allocates only to grow dst, at most
// once and then to the response's exact length (TestAppendAllocs), so
// AppendResult(nil, id, result) makes one allocation of the right size.
func AppendResult(dst, id, result []byte) []byte {
	dst = grow(dst, len(`{"jsonrpc":"2.0","id":,"result":}`)+len(id)+max(len(result), len("{}")))
	dst = AppendResultHead(dst, id)
	if len(result) == 0 {
		result = []byte("{}")
	}
	dst = append(dst, result...)
	return append(dst, '}')
}

// AppendResultHead appends the start of a success response,
// {"jsonrpc":"2.0","id":id,"result": , to dst and returns the extended
// slice: a caller that encodes the result itself appends it and then
// '}'. It allocates only to grow dst.
func AppendResultHead(dst, id []byte) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = append(dst, id...)
	return append(dst, `,"result":`...)
}

// AppendError appends an error response to dst. A nil id is written as
// null. It allocates only to grow dst, once unless the message needs
// escapes.
func AppendError(dst, id []byte, e *Error) []byte {
	if id == nil {
		id = nullID
	}
	dst = grow(dst, len(`{"jsonrpc":"2.0","error":{"code":-32000,"message":"","data":},"id":}`)+len(id)+len(e.Message)+len(e.Data))
	dst = append(dst, `{"jsonrpc":"2.0","error":{"code":`...)
	dst = strconv.AppendInt(dst, e.Code, 10)
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, e.Message)
	if len(e.Data) > 0 {
		dst = append(dst, `,"data":`...)
		dst = append(dst, e.Data...)
	}
	dst = append(dst, `},"id":`...)
	dst = append(dst, id...)
	return append(dst, '}')
}

// AppendNotification appends {"jsonrpc":"2.0","method":method,"params":params}
// to dst; params is raw JSON and is omitted when empty.
func AppendNotification(dst []byte, method string, params []byte) []byte {
	dst = grow(dst, len(`{"jsonrpc":"2.0","method":"","params":}`)+len(method)+len(params))
	dst = append(dst, `{"jsonrpc":"2.0","method":`...)
	dst = AppendString(dst, method)
	if len(params) > 0 {
		dst = append(dst, `,"params":`...)
		dst = append(dst, params...)
	}
	return append(dst, '}')
}

// AppendRequest appends a request with the raw JSON id to dst; params is
// raw JSON and is omitted when empty.
func AppendRequest(dst, id []byte, method string, params []byte) []byte {
	dst = grow(dst, len(`{"jsonrpc":"2.0","id":,"method":"","params":}`)+len(id)+len(method)+len(params))
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = append(dst, id...)
	dst = append(dst, `,"method":`...)
	dst = AppendString(dst, method)
	if len(params) > 0 {
		dst = append(dst, `,"params":`...)
		dst = append(dst, params...)
	}
	return append(dst, '}')
}

// grow returns dst with room for n more bytes, so that the appends of a
// message that follow allocate once at most instead of doubling several
// times.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	return append(make([]byte, 0, len(dst)+n), dst...)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s to dst as a JSON string literal, exactly as
// [Marshal] encodes a string: no HTML escaping; \b, \f, \n, \r, \t and
// \u00XX for the other control characters; U+2028 and U+2029 escaped;
// each byte of invalid UTF-8 as \ufffd (FuzzAppendString holds it to
// Marshal). It allocates only to grow dst.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			switch r {
			case '\u2028':
				dst = append(dst, `\u2028`...)
			case '\u2029':
				dst = append(dst, `\u2029`...)
			default:
				dst = append(dst, `\ufffd`...)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// marshalOptions disable goccy/go-json's HTML escaping: '<', '>' and '&'
// stay as they are, as other MCP SDKs send them, instead of becoming
// \u003c, \u003e and \u0026 (six bytes for one).
var marshalOptions = []json.EncodeOptionFunc{json.DisableHTMLEscape()}

// Marshal returns the JSON encoding of v, as goccy/go-json's Marshal does
// but without HTML escaping: a string of '<' encodes to as many bytes, not
// six times as many, so a client cannot have the server amplify what it
// echoes. The option applies through values' MarshalJSON methods and
// json.RawMessage too, as long as those encode with Marshal as well.
// Encode every JSON value sent to a peer with it.
func Marshal(v any) ([]byte, error) {
	return json.MarshalWithOption(v, marshalOptions...)
}
