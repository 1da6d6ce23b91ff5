package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// stdString encodes s with encoding/json, without its HTML escaping.
func stdString(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// replaceInvalid replaces every byte of s that is not part of valid UTF-8
// with U+FFFD, one per byte, as AppendString and encoding/json do.
func replaceInvalid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s { // range yields RuneError for each invalid byte
		b.WriteRune(r)
	}
	return b.String()
}

var stringCases = []string{
	"",
	"plain ascii",
	`quote " and backslash \ and slash /`,
	"newline\n return\r tab\t",
	"nul\x00 bell\x07 backspace\b formfeed\f esc\x1b unit\x1f del\x7f",
	"html <script>&amp;</script>",
	"line sep \u2028 para sep \u2029",
	"héllo wörld ✓ 日本語 🙂",
	"\"\\\"\\",
	"invalid \xff byte",
	"truncated \xe2\x82 rune",
	"surrogate half \xed\xa0\x80 encoded",
	"overlong \xc0\xaf slash",
	"\x80\x80\x80",
	"replacement char itself \ufffd",
	strings.Repeat("a\x01", 100),
}

// TestAppendStringMatchesEncodingJSON compares AppendString with
// encoding/json: byte for byte where the two escape alike, and by decoding
// where encoding/json legitimately differs (\b, \f, U+2028, U+2029).
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	cases := append([]string(nil), stringCases...)
	for c := range 0x80 {
		cases = append(cases, "<"+string(rune(c))+">")
	}
	for _, s := range cases {
		got := AppendString(nil, s)
		want := stdString(t, s)
		if !json.Valid(got) {
			t.Errorf("AppendString(%q) = %s: not valid JSON", s, got)
			continue
		}
		var gotS, wantS string
		if err := json.Unmarshal(got, &gotS); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want, &wantS); err != nil {
			t.Fatal(err)
		}
		if gotS != wantS {
			t.Errorf("AppendString(%q) decodes to %q; encoding/json's to %q", s, gotS, wantS)
		}
		if gotS != replaceInvalid(s) {
			t.Errorf("AppendString(%q) decodes to %q, want %q", s, gotS, replaceInvalid(s))
		}
		if !strings.ContainsAny(s, "\b\f\u2028\u2029") && !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q)\n got  %s\n want %s (encoding/json)", s, got, want)
		}
	}
}

func TestAppendStringInvalidUTF8(t *testing.T) {
	got := string(AppendString(nil, "a\xffb\xe2\x82c"))
	if want := `"a\ufffdb\ufffd\ufffdc"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestAppendStringAppends(t *testing.T) {
	dst := []byte("prefix:")
	got := AppendString(dst, "x")
	if string(got) != `prefix:"x"` {
		t.Errorf("got %s", got)
	}
}

// decodeStd decodes a message with encoding/json, numbers kept as
// json.Number so that an ID's type shows.
func decodeStd(t *testing.T, b []byte) map[string]any {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("not valid JSON: %s", b)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

func TestAppendResult(t *testing.T) {
	tests := []struct {
		name   string
		id     string
		result string
		want   map[string]any
	}{
		{"int-id", `7`, `{"ok":true}`,
			map[string]any{"jsonrpc": "2.0", "id": json.Number("7"), "result": map[string]any{"ok": true}}},
		{"string-id", `"7"`, `{"ok":true}`,
			map[string]any{"jsonrpc": "2.0", "id": "7", "result": map[string]any{"ok": true}}},
		{"negative-id", `-3`, `[]`,
			map[string]any{"jsonrpc": "2.0", "id": json.Number("-3"), "result": []any{}}},
		{"empty-result", `"a"`, ``,
			map[string]any{"jsonrpc": "2.0", "id": "a", "result": map[string]any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeStd(t, AppendResult(nil, []byte(tt.id), []byte(tt.result)))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestAppendError(t *testing.T) {
	tests := []struct {
		name string
		id   []byte
		err  *Error
		want map[string]any
	}{
		{"int-id", []byte(`1`), NewError(CodeMethodNotFound, "Method not found"),
			map[string]any{"jsonrpc": "2.0", "id": json.Number("1"),
				"error": map[string]any{"code": json.Number("-32601"), "message": "Method not found"}}},
		{"string-id", []byte(`"1"`), NewError(CodeInvalidParams, "bad \"name\"\n"),
			map[string]any{"jsonrpc": "2.0", "id": "1",
				"error": map[string]any{"code": json.Number("-32602"), "message": "bad \"name\"\n"}}},
		{"nil-id", nil, NewError(CodeParseError, "Parse error"),
			map[string]any{"jsonrpc": "2.0", "id": nil,
				"error": map[string]any{"code": json.Number("-32700"), "message": "Parse error"}}},
		{"data", []byte(`9`), &Error{Code: CodeUnsupportedProtocolVersion, Message: "unsupported",
			Data: []byte(`{"supported":["2025-11-25"],"requested":"1999"}`)},
			map[string]any{"jsonrpc": "2.0", "id": json.Number("9"),
				"error": map[string]any{"code": json.Number("-32022"), "message": "unsupported",
					"data": map[string]any{"supported": []any{"2025-11-25"}, "requested": "1999"}}}},
		{"invalid-utf8-message", []byte(`2`), NewError(CodeInternalError, "x\xffy"),
			map[string]any{"jsonrpc": "2.0", "id": json.Number("2"),
				"error": map[string]any{"code": json.Number("-32603"), "message": "x\ufffdy"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendError(nil, tt.id, tt.err)
			if got := decodeStd(t, b); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
			// And it decodes as an error response with the same ID.
			msgs, _, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(%s): %v", b, err)
			}
			wantID := string(tt.id)
			if tt.id == nil {
				wantID = "null"
			}
			if m := msgs[0]; m.Kind != KindResponse || m.Error == nil || m.Error.Code != tt.err.Code || string(m.ID) != wantID {
				t.Errorf("Decode(%s) = %+v", b, m)
			}
		})
	}
}

func TestAppendNotification(t *testing.T) {
	got := decodeStd(t, AppendNotification(nil, "notifications/progress", []byte(`{"progress":1,"total":2}`)))
	want := map[string]any{"jsonrpc": "2.0", "method": "notifications/progress",
		"params": map[string]any{"progress": json.Number("1"), "total": json.Number("2")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	got = decodeStd(t, AppendNotification(nil, "notifications/tools/list_changed", nil))
	want = map[string]any{"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("no params: got %#v\nwant %#v", got, want)
	}
	msgs, _, err := Decode(AppendNotification(nil, "n", nil))
	if err != nil || msgs[0].Kind != KindNotification || msgs[0].ID != nil {
		t.Errorf("Decode(notification) = %+v, %v", msgs, err)
	}
}

func TestAppendRequest(t *testing.T) {
	for _, id := range []string{`1`, `"1"`, `-5`, `"req \"q\""`} {
		b := AppendRequest(nil, []byte(id), "sampling/createMessage", []byte(`{"messages":[]}`))
		got := decodeStd(t, b)
		var wantID any
		if err := json.Unmarshal([]byte(id), &wantID); err != nil {
			t.Fatal(err)
		}
		if _, ok := wantID.(float64); ok {
			wantID = json.Number(id) // decodeStd keeps numbers as json.Number
		}
		want := map[string]any{"jsonrpc": "2.0", "id": wantID, "method": "sampling/createMessage",
			"params": map[string]any{"messages": []any{}}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("id %s: got %#v\nwant %#v", id, got, want)
		}
		msgs, _, err := Decode(b)
		if err != nil || msgs[0].Kind != KindRequest || string(msgs[0].ID) != id {
			t.Errorf("Decode(%s) = %+v, %v", b, msgs, err)
		}
	}
	got := decodeStd(t, AppendRequest(nil, []byte(`3`), "ping", nil))
	if want := map[string]any{"jsonrpc": "2.0", "id": json.Number("3"), "method": "ping"}; !reflect.DeepEqual(got, want) {
		t.Errorf("no params: got %#v\nwant %#v", got, want)
	}
}

func TestErrorIsAndAs(t *testing.T) {
	e := NewError(CodeInvalidParams, "unknown tool")
	if !e.Is(&Error{Code: CodeInvalidParams}) || e.Is(&Error{Code: CodeInternalError}) {
		t.Errorf("Is does not match by code")
	}
	// A sentinel with a message matches by code and message, never by
	// pointer; a nil *Error matches nothing.
	sentinel := NewError(CodeServerError, "Service Unavailable: too many sessions")
	for _, c := range []struct {
		err  *Error
		want bool
	}{
		{sentinel, true},
		{&Error{Code: sentinel.Code, Message: sentinel.Message, Data: []byte(`{"x":1}`)}, true}, // a copy, with data
		{NewError(CodeServerError, "Service Unavailable: the server is shutting down"), false},
		{NewError(CodeInternalError, sentinel.Message), false},
		{nil, false},
	} {
		if got := errors.Is(c.err, sentinel); got != c.want {
			t.Errorf("errors.Is(%v, sentinel) = %v, want %v", c.err, got, c.want)
		}
	}
	if !errors.Is(fmt.Errorf("wrapped: %w", NewError(CodeServerError, sentinel.Message)), sentinel) {
		t.Errorf("errors.Is does not see a wrapped copy of the sentinel")
	}
	if got := AsError(e); got != e {
		t.Errorf("AsError(*Error) = %v, want the same pointer", got)
	}
	if got := AsError(errString("boom")); got.Code != CodeInternalError || got.Message != "boom" {
		t.Errorf("AsError(plain) = %+v", got)
	}
	if s := e.Error(); !strings.Contains(s, "unknown tool") || !strings.Contains(s, "-32602") {
		t.Errorf("Error() = %q", s)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestMarshalNoHTMLEscape: Marshal leaves '<', '>' and '&' alone, through
// MarshalJSON methods and raw messages too.
func TestMarshalNoHTMLEscape(t *testing.T) {
	type inner struct{ S string }
	v := map[string]any{"s": "<&>", "raw": json.RawMessage(`"<&>"`), "nested": []inner{{"<&>"}}}
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"nested":[{"S":"<&>"}],"raw":"<&>","s":"<&>"}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
}
