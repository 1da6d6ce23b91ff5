package jsonrpc

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// decodeSeeds are the seed corpus of FuzzDecode: every shape the table
// tests use, valid and not.
var decodeSeeds = []string{
	``,
	` `,
	`null`,
	`{}`,
	`[]`,
	`[1]`,
	`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`,
	`{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}`,
	`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}`,
	`{"jsonrpc":"2.0","id":1,"Method":"ping"}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"name":"a","name":"b"}}`,
	`{"jsonrpc":"2.0","id":5,"result":{}}`,
	`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x","data":[1]}}`,
	`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":"r","result":1}]`,
	`{"jsonrpc":"2.0","id":1.5,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":-0,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":"\u00e9\ud83d\ude00","method":"p\u0000"}`,
	`{"jsonrpc":"2.0","id":true,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","params":"s"}`,
	`{"jsonrpc":"2.0","id":1,"method":""}`,
	`{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}`,
	`{"jsonrpc":"1.0","id":1,"method":"ping"}`,
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\xffb\"}",
	`{"jsonrpc":"2.0","id":1,"method":"a","method":"b"}`,
	`[[]]`,
	`{"jsonrpc":"2.0","id":1,"method":"ping"`,
	`{"jsonrpc":"2.0","id":99999999999999999999999999,"method":"ping"}`,
}

// FuzzDecode: Decode never panics; what it accepts is JSON (by
// encoding/json) and well-formed messages, and what it rejects gets -32700
// or -32600.
//
//	go test ./jsonrpc -run='^$' -fuzz='^FuzzDecode$' -fuzztime=10s
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, batch, err := Decode(body)
		if err != nil {
			if err.Code != CodeParseError && err.Code != CodeInvalidRequest {
				t.Fatalf("Decode(%q): code %d, want %d or %d", body, err.Code, CodeParseError, CodeInvalidRequest)
			}
			if msgs != nil {
				t.Fatalf("Decode(%q): messages with an error", body)
			}
			return
		}
		if !json.Valid(body) || !utf8.Valid(body) {
			t.Fatalf("Decode accepted %q, which is not UTF-8 JSON", body)
		}
		if !batch {
			checkExactNames(t, body, msgs[0])
		}
		if len(msgs) == 0 || len(msgs) > MaxBatch || (!batch && len(msgs) != 1) {
			t.Fatalf("Decode(%q): %d messages, batch %v", body, len(msgs), batch)
		}
		for _, m := range msgs {
			checkMessage(t, body, m)
		}
	})
}

// checkExactNames checks a decoded message against its members as
// encoding/json reads them into a map, where names are exact: the method
// and the ID are the members named exactly "method" and "id"
// (GHSA-wvj2-96wp-fq3f).
func checkExactNames(t *testing.T, body []byte, m *Message) {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		t.Fatalf("Decode accepted %q, which encoding/json cannot read as an object: %v", body, err)
	}
	var method string
	if raw, ok := obj["method"]; ok {
		_ = json.Unmarshal(raw, &method)
	}
	if method != m.Method {
		t.Fatalf("Decode(%q): method %q, but the member named \"method\" is %q", body, m.Method, method)
	}
	if id, ok := obj["id"]; ok != (m.ID != nil) || ok && !bytes.Equal(compact(id), compact(m.ID)) {
		t.Fatalf("Decode(%q): ID %q, but the member named \"id\" is %q", body, m.ID, id)
	}
}

func compact(raw []byte) []byte {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

func checkMessage(t *testing.T, body []byte, m *Message) {
	t.Helper()
	switch m.Kind {
	case KindRequest:
		if !isStringOrInteger(m.ID) {
			t.Fatalf("Decode(%q): request ID %q is not a string or an integer", body, m.ID)
		}
		if m.Method == "" || m.Result != nil || m.Error != nil {
			t.Fatalf("Decode(%q): bad request %+v", body, m)
		}
		// Re-encode and decode again: same method and ID.
		again := AppendRequest(nil, m.ID, m.Method, m.Params)
		ms, _, err := Decode(again)
		if err != nil {
			t.Fatalf("Decode(%q) → AppendRequest → %q: %v", body, again, err)
		}
		if r := ms[0]; r.Kind != KindRequest || !bytes.Equal(r.ID, m.ID) || r.Method != replaceInvalid(m.Method) {
			t.Fatalf("round trip of %q: got %v %q %q, want request %q %q", body, r.Kind, r.ID, r.Method, m.ID, m.Method)
		}
	case KindNotification:
		if m.ID != nil || m.Method == "" || m.Result != nil || m.Error != nil {
			t.Fatalf("Decode(%q): bad notification %+v", body, m)
		}
	case KindResponse:
		if m.Method != "" || (m.Result == nil) == (m.Error == nil) {
			t.Fatalf("Decode(%q): bad response %+v", body, m)
		}
		if !isStringOrInteger(m.ID) && !(m.Error != nil && string(m.ID) == "null") {
			t.Fatalf("Decode(%q): response ID %q", body, m.ID)
		}
	default:
		t.Fatalf("Decode(%q): Kind %d", body, m.Kind)
	}
	if m.Params != nil && m.Params[0] != '{' && m.Params[0] != '[' {
		t.Fatalf("Decode(%q): params %q is not an object or an array", body, m.Params)
	}
}

// isStringOrInteger is the reference for request IDs: a JSON string, or a
// JSON number with no fraction and no exponent.
func isStringOrInteger(raw []byte) bool {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return false
	}
	switch v := v.(type) {
	case string:
		return true
	case json.Number:
		return !bytes.ContainsAny([]byte(v), ".eE")
	}
	return false
}

// FuzzAppendString: the output is valid JSON, decodes to the input with
// invalid UTF-8 replaced by U+FFFD byte by byte, and is what Marshal
// writes for the string.
//
//	go test ./jsonrpc -run='^$' -fuzz='^FuzzAppendString$' -fuzztime=10s
func FuzzAppendString(f *testing.F) {
	for _, s := range stringCases {
		f.Add(s)
	}
	for _, s := range []string{"a\bb\fc\n\r\t\"\\/", "\x00\x01\x1f\x7f", "\u2028\u2029", "\xed\xa0\x80", "<>&", "é😀", "\xf0\x9f\x98", "\xc0\xaf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendString([]byte("x"), s)[1:]
		if !json.Valid(b) {
			t.Fatalf("AppendString(%q) = %s: not valid JSON", s, b)
		}
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if want := replaceInvalid(s); got != want {
			t.Fatalf("AppendString(%q) decodes to %q, want %q", s, got, want)
		}
		if want, err := Marshal(s); err != nil || string(b) != string(want) {
			t.Fatalf("AppendString(%q) = %s, Marshal: %s, %v", s, b, want, err)
		}
	})
}

// FuzzScanRequest: what scanRequest (Decode's fast path) reads,
// decodeOne (its decoder) reads the same way: kind, method, ID and params
// byte for byte.
//
//	go test ./jsonrpc -run='^$' -fuzz='^FuzzScanRequest$' -fuzztime=20s
func FuzzScanRequest(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}`,
		`{"jsonrpc":"2.0","id":null,"method":"x"}`,
		`{"jsonrpc":"2.0","id":"a\"b","method":"x","params":[]}`,
		`{"jsonrpc":"2.0","method":"x","extra":{"a":[1,{"b":2}]}}`,
		` {"method" : "ping" , "jsonrpc" : "2.0" , "id" : 7 } `,
		`{"jsonrpc":"2.0","id":1,"method":"p\u0069ng"}`,
		`{"jsonrpc":2.0,"id":1,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":01,"method":"ping"}`,
		requestOfSize(int(smallInlineLen)),
		requestOfSize(int(smallInlineLen) + 1),
		requestOfSize(int(inlineLen)),
		requestOfSize(int(inlineLen) + 1),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		one := scanRequest(body, nil)
		if one == nil {
			return
		}
		m := one.s[0]
		want := new(Message)
		if err := decodeOne(body, want); err != nil {
			t.Fatalf("scanRequest(%q) accepts, decodeOne: %v", body, err)
		}
		if m.Kind != want.Kind || m.Method != want.Method || !bytes.Equal(m.ID, want.ID) || (m.ID == nil) != (want.ID == nil) ||
			!bytes.Equal(m.Params, want.Params) || (m.Params == nil) != (want.Params == nil) || m.Result != nil || m.Error != nil {
			t.Fatalf("%q: scanRequest %+v, decodeOne %+v", body, m, want)
		}
		if m != &one.m || cap(m.ID) != len(m.ID) || cap(m.Params) != len(m.Params) {
			t.Fatalf("%q: scanRequest: message %p of %p, ID len %d cap %d, params len %d cap %d",
				body, m, one, len(m.ID), cap(m.ID), len(m.Params), cap(m.Params))
		}
		// Into a caller's Single: the same message, in it when it fits.
		in := new(Single)
		got := scanRequest(body, in)
		gm := &got.m
		if gm.Kind != m.Kind || gm.Method != m.Method || !bytes.Equal(gm.ID, m.ID) || (gm.ID == nil) != (m.ID == nil) ||
			!bytes.Equal(gm.Params, m.Params) || (gm.Params == nil) != (m.Params == nil) || cap(gm.ID) != len(gm.ID) || cap(gm.Params) != len(gm.Params) {
			t.Fatalf("%q: scanRequest into a Single %+v, without %+v", body, gm, m)
		}
		if fits := len(m.ID)+len(m.Params) <= SingleRoom; fits != (got == &in.single) {
			t.Fatalf("%q: %d bytes of ID and params; in the Single: %v", body, len(m.ID)+len(m.Params), got == &in.single)
		}
	})
}
