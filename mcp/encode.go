package mcp

// Encoding the common tools/call result without reflection.

import (
	"unicode/utf8"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// encodeToolResult returns the JSON of res, byte for byte what
// [jsonrpc.Marshal] writes (TestEncodeToolResult, FuzzAppendMarshalString).
// The common shape (text blocks without annotations or _meta; structured
// content from [AddTool] or none; no cache hints, as in every 2025
// session) is appended to one buffer sized up front, its only
// allocation; other results go through jsonrpc.Marshal.
func encodeToolResult(res *CallToolResult) ([]byte, *jsonrpc.Error) {
	if res.CacheHints.ResultType != "" || res.CacheHints.TTLMs != nil || res.CacheHints.CacheScope != "" || res.CacheHints.Meta != nil {
		return encode(res)
	}
	var structured []byte
	switch sc := res.StructuredContent.(type) {
	case nil:
	case *structuredJSON:
		structured = sc.raw // compact: jsonrpc.Marshal wrote it
	default:
		return encode(res)
	}
	n := len(`{"content":[],"structuredContent":,"isError":true}`) + len(structured)
	for i := range res.Content {
		c := &res.Content[i]
		if c.Type != "text" || c.Annotations != nil || c.Meta != nil {
			return encode(res)
		}
		n += len(`{"type":"text","text":""},`) + len(c.Text) + len(c.Text)/8
	}
	b := make([]byte, 0, n)
	if res.Content == nil {
		b = append(b, `{"content":null`...)
	} else {
		b = append(b, `{"content":[`...)
		for i := range res.Content {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":"text","text":`...)
			b = appendMarshalString(b, res.Content[i].Text)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if structured != nil {
		b = append(b, `,"structuredContent":`...)
		b = append(b, structured...)
	}
	if res.IsError {
		b = append(b, `,"isError":true`...)
	}
	return append(b, '}'), nil
}

const hexDigits = "0123456789abcdef"

// appendMarshalString appends s as a JSON string exactly as
// [jsonrpc.Marshal] encodes it: no HTML escaping; \b, \f, \n, \r, \t and
// \u00XX for the other control characters; U+2028 and U+2029 escaped;
// each byte of invalid UTF-8 as \ufffd. It allocates only to grow dst.
func appendMarshalString(dst []byte, s string) []byte {
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
