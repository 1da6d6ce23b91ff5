package jsonrpc

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// TestDecodeValid decodes the message shapes MCP allows, one at a time.
func TestDecodeValid(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		kind   Kind
		id     string // raw JSON, "" for none
		method string
		params string // raw JSON, "" for none
		result string
		code   int64 // the error code of an error response
	}{
		{name: "request/string-id", body: `{"jsonrpc":"2.0","id":"a-1","method":"ping"}`,
			kind: KindRequest, id: `"a-1"`, method: "ping"},
		{name: "request/int-id", body: `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo"}}`,
			kind: KindRequest, id: `42`, method: "tools/call", params: `{"name":"echo"}`},
		{name: "request/zero-id", body: `{"jsonrpc":"2.0","id":0,"method":"ping"}`,
			kind: KindRequest, id: `0`, method: "ping"},
		{name: "request/negative-id", body: `{"jsonrpc":"2.0","id":-7,"method":"ping"}`,
			kind: KindRequest, id: `-7`, method: "ping"},
		{name: "request/empty-string-id", body: `{"jsonrpc":"2.0","id":"","method":"ping"}`,
			kind: KindRequest, id: `""`, method: "ping"},
		{name: "request/array-params", body: `{"jsonrpc":"2.0","id":1,"method":"m","params":[1,2]}`,
			kind: KindRequest, id: `1`, method: "m", params: `[1,2]`},
		{name: "request/null-params", body: `{"jsonrpc":"2.0","id":1,"method":"m","params":null}`,
			kind: KindRequest, id: `1`, method: "m"},
		{name: "request/whitespace", body: " \r\n\t{ \"jsonrpc\" : \"2.0\", \"id\" : 3, \"method\" : \"ping\" }\n",
			kind: KindRequest, id: `3`, method: "ping"},
		{name: "request/unknown-member", body: `{"jsonrpc":"2.0","id":1,"method":"ping","extra":true}`,
			kind: KindRequest, id: `1`, method: "ping"},
		// Names are matched exactly: a case variant is an unknown member
		// (GHSA-wvj2-96wp-fq3f).
		{name: "request/case-variant-ignored", body: `{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call","PARAMS":{"x":1}}`,
			kind: KindRequest, id: `1`, method: "ping"},
		{name: "request/folded-name-ignored", body: `{"jsonrpc":"2.0","id":1,"method":"ping","paramſ":{"x":1}}`,
			kind: KindRequest, id: `1`, method: "ping"},
		{name: "notification", body: `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			kind: KindNotification, method: "notifications/initialized"},
		{name: "notification/params", body: `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}`,
			kind: KindNotification, method: "notifications/progress", params: `{"progress":1}`},
		{name: "response/result", body: `{"jsonrpc":"2.0","id":5,"result":{"ok":true}}`,
			kind: KindResponse, id: `5`, result: `{"ok":true}`},
		{name: "response/string-id", body: `{"jsonrpc":"2.0","id":"s","result":{}}`,
			kind: KindResponse, id: `"s"`, result: `{}`},
		{name: "response/error", body: `{"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"no such method"}}`,
			kind: KindResponse, id: `"x"`, code: -32601},
		{name: "response/error-null-id", body: `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}`,
			kind: KindResponse, id: `null`, code: -32700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, batch, err := Decode([]byte(tt.body))
			if err != nil {
				t.Fatalf("Decode(%s): %v", tt.body, err)
			}
			if batch {
				t.Errorf("batch = true, want false")
			}
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if m.Kind != tt.kind {
				t.Errorf("Kind = %v, want %v", m.Kind, tt.kind)
			}
			if string(m.ID) != tt.id {
				t.Errorf("ID = %q, want %q", m.ID, tt.id)
			}
			if m.Method != tt.method {
				t.Errorf("Method = %q, want %q", m.Method, tt.method)
			}
			if string(m.Params) != tt.params {
				t.Errorf("Params = %q, want %q", m.Params, tt.params)
			}
			if string(m.Result) != tt.result {
				t.Errorf("Result = %q, want %q", m.Result, tt.result)
			}
			switch {
			case tt.code == 0 && m.Error != nil:
				t.Errorf("Error = %v, want nil", m.Error)
			case tt.code != 0 && m.Error == nil:
				t.Errorf("Error = nil, want code %d", tt.code)
			case tt.code != 0 && m.Error.Code != tt.code:
				t.Errorf("Error.Code = %d, want %d", m.Error.Code, tt.code)
			}
		})
	}
}

// TestDecodeInvalid checks the code Decode gives each malformed body.
func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		name string
		body string
		code int64
	}{
		// Not JSON at all: -32700.
		{"empty", ``, CodeParseError},
		{"whitespace-only", " \n\t\r ", CodeParseError},
		{"garbage", `hello`, CodeParseError},
		{"truncated-object", `{"jsonrpc":"2.0","id":1,"method":"ping"`, CodeParseError},
		{"truncated-array", `[{"jsonrpc":"2.0","method":"a"}`, CodeParseError},
		{"trailing-comma", `{"jsonrpc":"2.0","method":"a",}`, CodeParseError},
		{"single-quotes", `{'jsonrpc':'2.0'}`, CodeParseError},
		{"trailing-garbage", `{"jsonrpc":"2.0","method":"a"} x`, CodeParseError},
		{"bad-escape", `{"jsonrpc":"2.0","method":"a\q"}`, CodeParseError},
		{"invalid-utf8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\xff\"}", CodeParseError},

		// Member names are matched exactly and named once (GHSA-wvj2-96wp-fq3f):
		// -32600.
		{"duplicate-method", `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}`, CodeInvalidRequest},
		{"duplicate-id", `{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}`, CodeInvalidRequest},
		{"duplicate-in-params", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}`, CodeInvalidRequest},
		{"duplicate-in-batch-member", `[{"jsonrpc":"2.0","method":"a","method":"b"}]`, CodeInvalidRequest},
		{"method-case-variant-only", `{"jsonrpc":"2.0","id":1,"Method":"ping"}`, CodeInvalidRequest},
		{"jsonrpc-case-variant-only", `{"JSONRPC":"2.0","id":1,"method":"ping"}`, CodeInvalidRequest},

		// JSON, but not a JSON-RPC 2.0 message as MCP restricts it: -32600.
		{"jsonrpc-missing", `{"id":1,"method":"ping"}`, CodeInvalidRequest},
		{"jsonrpc-1.0", `{"jsonrpc":"1.0","id":1,"method":"ping"}`, CodeInvalidRequest},
		{"jsonrpc-number", `{"jsonrpc":2.0,"id":1,"method":"ping"}`, CodeInvalidRequest},
		{"jsonrpc-null", `{"jsonrpc":null,"id":1,"method":"ping"}`, CodeInvalidRequest},
		{"request-id-null", `{"jsonrpc":"2.0","id":null,"method":"ping"}`, CodeInvalidRequest},
		{"request-id-float", `{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, CodeInvalidRequest},
		{"request-id-exponent", `{"jsonrpc":"2.0","id":1e3,"method":"ping"}`, CodeInvalidRequest},
		{"request-id-object", `{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, CodeInvalidRequest},
		{"request-id-array", `{"jsonrpc":"2.0","id":[1],"method":"ping"}`, CodeInvalidRequest},
		{"request-id-true", `{"jsonrpc":"2.0","id":true,"method":"ping"}`, CodeInvalidRequest},
		{"request-id-false", `{"jsonrpc":"2.0","id":false,"method":"ping"}`, CodeInvalidRequest},
		{"params-string", `{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}`, CodeInvalidRequest},
		{"params-number", `{"jsonrpc":"2.0","id":1,"method":"ping","params":3}`, CodeInvalidRequest},
		{"params-bool", `{"jsonrpc":"2.0","method":"n","params":true}`, CodeInvalidRequest},
		{"method-empty", `{"jsonrpc":"2.0","id":1,"method":""}`, CodeInvalidRequest},
		{"method-number", `{"jsonrpc":"2.0","id":1,"method":7}`, CodeInvalidRequest},
		{"method-object", `{"jsonrpc":"2.0","id":1,"method":{}}`, CodeInvalidRequest},
		{"method-and-result", `{"jsonrpc":"2.0","id":1,"method":"m","result":{}}`, CodeInvalidRequest},
		{"result-and-error", `{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}`, CodeInvalidRequest},
		{"response-no-id", `{"jsonrpc":"2.0","result":{}}`, CodeInvalidRequest},
		{"error-response-no-id", `{"jsonrpc":"2.0","error":{"code":-1,"message":"x"}}`, CodeInvalidRequest},
		{"result-id-null", `{"jsonrpc":"2.0","id":null,"result":{}}`, CodeInvalidRequest},
		{"response-id-float", `{"jsonrpc":"2.0","id":2.5,"result":{}}`, CodeInvalidRequest},
		{"neither-method-nor-result", `{"jsonrpc":"2.0","id":1}`, CodeInvalidRequest},
		{"error-not-object", `{"jsonrpc":"2.0","id":1,"error":"bad"}`, CodeInvalidRequest},
		{"empty-object", `{}`, CodeInvalidRequest},
		{"null", `null`, CodeInvalidRequest},
		{"string", `"ping"`, CodeInvalidRequest},
		{"number", `1`, CodeInvalidRequest},
		{"empty-batch", `[]`, CodeInvalidRequest},
		{"batch-of-numbers", `[1,2]`, CodeInvalidRequest},
		{"batch-with-invalid-member", `[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":null,"method":"b"}]`, CodeInvalidRequest},
		{"nested-batch", `[[{"jsonrpc":"2.0","method":"a"}]]`, CodeInvalidRequest},
		{"batch-too-large", batchOf(MaxBatch + 1), CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, _, err := Decode([]byte(tt.body))
			if err == nil {
				t.Fatalf("Decode(%.80s) = %d messages, want error code %d", tt.body, len(msgs), tt.code)
			}
			if err.Code != tt.code {
				t.Fatalf("Decode(%.80s): code %d (%s), want %d", tt.body, err.Code, err.Message, tt.code)
			}
			if msgs != nil {
				t.Errorf("Decode returned %d messages with an error", len(msgs))
			}
			if err.Message == "" {
				t.Errorf("error has no message")
			}
		})
	}
}

// batchOf returns a batch of n notifications.
func batchOf(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"jsonrpc":"2.0","method":"n` + strconv.Itoa(i) + `"}`)
	}
	b.WriteByte(']')
	return b.String()
}

func TestDecodeBatch(t *testing.T) {
	t.Run("mixed-kinds", func(t *testing.T) {
		body := ` [ {"jsonrpc":"2.0","id":1,"method":"ping"},
			{"jsonrpc":"2.0","method":"notifications/initialized"},
			{"jsonrpc":"2.0","id":"r","result":{"x":1}},
			{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"m"}} ]`
		msgs, batch, err := Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if !batch {
			t.Errorf("batch = false, want true")
		}
		want := []Kind{KindRequest, KindNotification, KindResponse, KindResponse}
		if len(msgs) != len(want) {
			t.Fatalf("got %d messages, want %d", len(msgs), len(want))
		}
		for i, k := range want {
			if msgs[i].Kind != k {
				t.Errorf("msgs[%d].Kind = %v, want %v", i, msgs[i].Kind, k)
			}
		}
		if string(msgs[0].ID) != "1" || msgs[0].Method != "ping" {
			t.Errorf("msgs[0] = %+v", msgs[0])
		}
		if string(msgs[2].Result) != `{"x":1}` {
			t.Errorf("msgs[2].Result = %s", msgs[2].Result)
		}
		if msgs[3].Error == nil || msgs[3].Error.Code != CodeInvalidRequest || string(msgs[3].ID) != "null" {
			t.Errorf("msgs[3] = %+v", msgs[3])
		}
	})
	t.Run("single-member", func(t *testing.T) {
		msgs, batch, err := Decode([]byte(`[{"jsonrpc":"2.0","method":"a"}]`))
		if err != nil || !batch || len(msgs) != 1 {
			t.Fatalf("Decode = %d msgs, batch %v, err %v; want 1, true, nil", len(msgs), batch, err)
		}
	})
	t.Run("max-size", func(t *testing.T) {
		msgs, batch, err := Decode([]byte(batchOf(MaxBatch)))
		if err != nil {
			t.Fatal(err)
		}
		if !batch || len(msgs) != MaxBatch {
			t.Fatalf("got %d messages (batch %v), want %d", len(msgs), batch, MaxBatch)
		}
		for i, m := range msgs {
			if want := "n" + strconv.Itoa(i); m.Method != want || m.Kind != KindNotification {
				t.Fatalf("msgs[%d] = %v %q, want notification %q", i, m.Kind, m.Method, want)
			}
		}
	})
	t.Run("empty", func(t *testing.T) {
		_, batch, err := Decode([]byte(" [ ] "))
		if err == nil || err.Code != CodeInvalidRequest {
			t.Fatalf("err = %v, want code %d", err, CodeInvalidRequest)
		}
		if !batch {
			t.Errorf("batch = false, want true for an array body")
		}
	})
	t.Run("over-max", func(t *testing.T) {
		_, batch, err := Decode([]byte(batchOf(MaxBatch + 1)))
		if err == nil || err.Code != CodeInvalidRequest {
			t.Fatalf("err = %v, want code %d", err, CodeInvalidRequest)
		}
		if !batch {
			t.Errorf("batch = false, want true")
		}
	})
	t.Run("invalid-member-named", func(t *testing.T) {
		_, _, err := Decode([]byte(`[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"1.0","method":"b"}]`))
		if err == nil || err.Code != CodeInvalidRequest {
			t.Fatalf("err = %v, want code %d", err, CodeInvalidRequest)
		}
		if !strings.Contains(err.Message, "batch member 1") {
			t.Errorf("message %q does not name the member", err.Message)
		}
	})
}

// TestDecodeOwnsMemory overwrites the body after Decode: the messages must
// not change, since the transport reuses request buffers.
func TestDecodeOwnsMemory(t *testing.T) {
	bodies := []string{
		`{"jsonrpc":"2.0","id":"abc","method":"tools/call","params":{"name":"echo","arguments":{"s":"hi"}}}`,
		`{"jsonrpc":"2.0","id":12345,"result":{"content":[{"type":"text","text":"hello"}]}}`,
		`{"jsonrpc":"2.0","id":"e","error":{"code":-32602,"message":"bad params","data":{"k":"v"}}}`,
		`[{"jsonrpc":"2.0","id":"b1","method":"ping","params":{}},{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"b1"}}]`,
		requestOfSize(int(smallInlineLen)), // ID and params inside the message
		requestOfSize(int(inlineLen)),      // the same, in the larger size
		requestOfSize(int(inlineLen) + 1),  // in a buffer of their own
	}
	for _, body := range bodies {
		buf := []byte(body)
		msgs, _, err := Decode(buf)
		if err != nil {
			t.Fatalf("Decode(%s): %v", body, err)
		}
		before := snapshot(msgs)
		for i := range buf {
			buf[i] = 'X'
		}
		if after := snapshot(msgs); after != before {
			t.Errorf("messages changed after the body was overwritten:\nbefore %s\nafter  %s", before, after)
		}
	}
}

// requestOfSize returns a tools/call request of the shape scanRequest
// reads whose ID and params together are n bytes long (n >= 9).
func requestOfSize(n int) string {
	return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"s":"` + strings.Repeat("a", n-9) + `"}}`
}

// TestDecodeAppend appends to the ID and the params Decode's fast path
// (scanRequest) returns: each has no room past its end, so neither append
// writes over the other (or over anything else), whether the two share
// the message's allocation, a buffer of their own, or are alone in it.
func TestDecodeAppend(t *testing.T) {
	for _, body := range []string{
		requestOfSize(9),
		requestOfSize(int(smallInlineLen)),
		requestOfSize(int(smallInlineLen) + 1),
		requestOfSize(int(inlineLen) - 1),
		requestOfSize(int(inlineLen)),
		requestOfSize(int(inlineLen) + 1),
		requestOfSize(1000),
		`{"jsonrpc":"2.0","id":"abc","method":"ping"}`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"b1"}}`,
		`{"jsonrpc":"2.0","method":"x","params":[` + strings.Repeat("1,", 150) + `1]}`,
	} {
		if scanRequest([]byte(body), nil) == nil {
			t.Fatalf("scanRequest(%.60s) = nil, want the fast path", body)
		}
		msgs, _, err := Decode([]byte(body))
		if err != nil {
			t.Fatalf("Decode(%.60s): %v", body, err)
		}
		m := msgs[0]
		if len(msgs) != 1 || cap(msgs) != 1 {
			t.Errorf("Decode(%.60s): len %d, cap %d, want 1, 1", body, len(msgs), cap(msgs))
		}
		if cap(m.ID) != len(m.ID) || cap(m.Params) != len(m.Params) {
			t.Errorf("Decode(%.60s): ID len %d cap %d, params len %d cap %d: want no room past the ends",
				body, len(m.ID), cap(m.ID), len(m.Params), cap(m.Params))
		}
		before := snapshot(msgs)
		id, params := string(m.ID), string(m.Params)
		id2 := append(m.ID, `XXXXXXXX`...)
		params2 := append(m.Params, `YYYYYYYY`...)
		if after := snapshot(msgs); after != before {
			t.Errorf("appends changed the message:\nbefore %s\nafter  %s", before, after)
		}
		if string(id2) != id+`XXXXXXXX` || string(params2) != params+`YYYYYYYY` {
			t.Errorf("Decode(%.60s): appends got %q, %q", body, id2, params2)
		}
	}
}

func snapshot(msgs []*Message) string {
	var b bytes.Buffer
	for _, m := range msgs {
		b.WriteString(m.Kind.String() + "|" + string(m.ID) + "|" + m.Method + "|" + string(m.Params) + "|" + string(m.Result) + "|")
		if m.Error != nil {
			b.WriteString(strconv.FormatInt(m.Error.Code, 10) + "|" + m.Error.Message + "|" + string(m.Error.Data))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{
		KindRequest: "request", KindNotification: "notification", KindResponse: "response", 0: "invalid", 9: "invalid",
	} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

// TestDecodeDeepNesting: deeply nested JSON gets an error, not a stack
// overflow (which would kill the process, not just the request).
func TestDecodeDeepNesting(t *testing.T) {
	for _, depth := range []int{100_000, 1_000_000} {
		bodies := map[string]string{
			"params-arrays":  `{"jsonrpc":"2.0","method":"a","params":[` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `]}`,
			"params-objects": `{"jsonrpc":"2.0","method":"a","params":{"x":` + strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth) + `}}`,
			"batch-arrays":   strings.Repeat("[", depth) + strings.Repeat("]", depth),
			"unbalanced":     strings.Repeat("[", depth),
		}
		for name, body := range bodies {
			msgs, _, err := Decode([]byte(body))
			if err == nil {
				t.Errorf("%s depth %d: accepted (%d messages)", name, depth, len(msgs))
				continue
			}
			if err.Code != CodeParseError && err.Code != CodeInvalidRequest {
				t.Errorf("%s depth %d: code %d", name, depth, err.Code)
			}
		}
	}
	// Modest nesting is fine.
	body := `{"jsonrpc":"2.0","method":"a","params":[` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `]}`
	if _, _, err := Decode([]byte(body)); err != nil {
		t.Errorf("depth 100: %v", err)
	}
}
