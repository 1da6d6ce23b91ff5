package mcp

import (
	"testing"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// TestEncodeToolResult: encodeToolResult writes what jsonrpc.Marshal
// writes, on its fast path and off it.
func TestEncodeToolResult(t *testing.T) {
	ttl := int64(5)
	custom, err := jsonrpc.Marshal(spaced{})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []*CallToolResult{
		{Content: []Content{}},
		{},
		{Content: []Content{TextContent("hello")}},
		TextResult("hello"),
		{Content: []Content{TextContent("a\n\"b\""), TextContent("<&>\u2028"), TextContent("")}, IsError: true},
		{Content: []Content{TextContent(`{"x":1}`)}, StructuredContent: &structuredJSON{raw: []byte(`{"x":1}`)}},
		{Content: []Content{TextContent("x")}, StructuredContent: json.RawMessage(`{ "x" : 1 }`)},
		{Content: []Content{TextContent("x")}, StructuredContent: &structuredJSON{raw: custom}},
		{Content: []Content{TextContent("x")}, StructuredContent: map[string]any{"a": 1}},
		{Content: []Content{{Type: "text", Text: "t", Annotations: &Annotations{Audience: []Role{"user"}}}}},
		{Content: []Content{{Type: "text", Text: "t", Meta: Meta{"k": "v"}}}},
		{Content: []Content{ImageContent([]byte{1, 2}, "image/png")}},
		{Content: []Content{TextContent("x")}, CacheHints: CacheHints{ResultType: ResultTypeComplete, TTLMs: &ttl, CacheScope: "private", Meta: Meta{"a": 1}}},
	} {
		want, err := jsonrpc.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		got, jerr := encodeToolResult(res, nil)
		if jerr != nil || string(got) != string(want) {
			t.Errorf("encodeToolResult(%+v) = %s, %v; jsonrpc.Marshal: %s", res, got, jerr, want)
		}
		// Into a buffer: the result follows what it holds, in its array
		// when there is room.
		for _, room := range []int{0, 8, 512} {
			buf := append(make([]byte, 0, 4+room), "head"...)
			got, jerr := encodeToolResult(res, buf)
			if jerr != nil || string(got) != string(want) || string(buf) != "head" {
				t.Errorf("encodeToolResult(%+v, room %d) = %s, %v; jsonrpc.Marshal: %s", res, room, got, jerr, want)
			}
		}
	}
	buf := append(make([]byte, 0, 512), "head"...)
	if got, _ := encodeToolResult(TextResult("hello"), buf); &got[0] != &buf[:5][4] {
		t.Error("encodeToolResult of a text result did not encode into the buffer's room")
	}
}

// spaced encodes itself with spaces and '<', as a typed tool's Out may.
type spaced struct{}

func (spaced) MarshalJSON() ([]byte, error) { return []byte(`{ "a" : [ 1, "<" ] }`), nil }

// TestTextResult: TextResult is the result of one text block, and
// appending to its Content does not write past the block it holds.
func TestTextResult(t *testing.T) {
	r := TextResult("hi")
	want, _ := jsonrpc.Marshal(&CallToolResult{Content: []Content{TextContent("hi")}})
	if got, _ := jsonrpc.Marshal(r); string(got) != string(want) {
		t.Errorf("TextResult(\"hi\") encodes as %s, want %s", got, want)
	}
	first := &r.Content[0]
	r.Content = append(r.Content, TextContent("more"))
	if first.Text != "hi" || &r.Content[0] == first || len(r.Content) != 2 {
		t.Error("append to TextResult's Content did not copy it")
	}
}
