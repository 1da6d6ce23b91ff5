package mcp

// Encoding the common tools/call result without reflection.

import (
	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// encodeToolResult returns the JSON of res, byte for byte what
// [jsonrpc.Marshal] writes (TestEncodeToolResult, jsonrpc.FuzzAppendString).
// The common shape (text blocks without annotations or _meta; structured
// content from [AddTool] or none; no cache hints, as in every 2025
// session) is appended to buf, or with a nil buf to one buffer sized up
// front, its only allocation; the part appended is returned. With room
// in buf, encodeToolResult does not allocate and the result shares buf's
// array (see [Call].Buf). Other results go through jsonrpc.Marshal.
func encodeToolResult(res *CallToolResult, buf []byte) ([]byte, *jsonrpc.Error) {
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
	start := len(buf)
	b := buf
	if b == nil {
		b = make([]byte, 0, n)
	}
	if res.Content == nil {
		b = append(b, `{"content":null`...)
	} else {
		b = append(b, `{"content":[`...)
		for i := range res.Content {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":"text","text":`...)
			b = jsonrpc.AppendString(b, res.Content[i].Text)
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
	return append(b, '}')[start:], nil
}
