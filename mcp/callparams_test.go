package mcp

import (
	"bytes"
	"testing"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

var callParamsSeeds = []string{
	`{"name":"echo","arguments":{"message":"hello"}}`,
	`{"arguments":{"message":"hello"},"name":"echo"}`,
	`{"name":"echo","arguments":null}`,
	`{"name":"echo"}`,
	`{"name":"echo","arguments":[1]}`,
	`{"name":"echo","arguments":"x"}`,
	`{"name":"echo","_meta":{"progressToken":"t1"},"arguments":{}}`,
	`{"name":"echo","_meta":{"progressToken":7}}`,
	`{"name":"echo","_meta":null}`,
	`{"name":"echo","_meta":5}`,
	`{"name":"echo","other":{"a":[1,2,3]},"arguments":{"a":{"b":"\u00e9"}}}`,
	`{"name":"echo","name":"other"}`,
	`{"name":"echo","Name":"other"}`,
	`{"name":"","arguments":{}}`,
	`{"name":null}`,
	`{"name":"e\u0063ho"}`,
	`{"name":"echo","requestState":"s"}`,
	`{"name":"echo","task":{}}`,
	`{"name":"echo","arguments":{"a":1,"a":2}}`,
	`{"name":"echo","arguments":{"m":"a` + "\xff" + `"}}`,
	` { "name" : "echo" , "arguments" : { "message" : "hi" } } `,
	`{"name":"echo"} x`,
	`[]`,
	``,
}

// FuzzCallParams: whatever scanCallParams reads, jsonrpc.Unmarshal reads
// the same way (the name, the arguments byte for byte, the progress
// token); where it is unsure, it leaves p alone.
//
//	go test ./mcp -run='^$' -fuzz='^FuzzCallParams$' -fuzztime=20s
func FuzzCallParams(f *testing.F) {
	for _, s := range callParamsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast CallToolParams
		if !scanCallParams(b, &fast) {
			if fast.Name != "" || fast.Arguments != nil || fast.Meta != nil {
				t.Fatalf("scanCallParams(%q) = false, but it set p: %+v", b, fast)
			}
			return
		}
		var slow CallToolParams
		if err := jsonrpc.Unmarshal(b, &slow); err != nil {
			t.Fatalf("scanCallParams(%q) accepts, Unmarshal: %v", b, err)
		}
		if fast.Name != slow.Name || fast.Name == "" || !bytes.Equal(fast.Arguments, slow.Arguments) || (fast.Arguments == nil) != (slow.Arguments == nil) {
			t.Fatalf("%q: scanCallParams %q %q, Unmarshal %q %q", b, fast.Name, fast.Arguments, slow.Name, slow.Arguments)
		}
		if (fast.Meta == nil) != (slow.Meta == nil) || fast.Meta != nil && !bytes.Equal(fast.Meta.ProgressToken, slow.Meta.ProgressToken) {
			t.Fatalf("%q: _meta %+v, Unmarshal %+v", b, fast.Meta, slow.Meta)
		}
		if slow.RequestState != "" || slow.Task != nil || slow.InputResponses != nil {
			t.Fatalf("%q: scanCallParams accepts members it does not read", b)
		}
	})
}

// FuzzStringArgument: StringArgument says what jsonrpc.Unmarshal into a
// struct with a *string field says.
//
//	go test ./mcp -run='^$' -fuzz='^FuzzStringArgument$' -fuzztime=20s
func FuzzStringArgument(f *testing.F) {
	for _, s := range []string{`{"message":"hello"}`, `{"message":"h\u00e9\n"}`, `{"message":null}`, `{"message":1}`,
		`{"other":1}`, `{"message":"a","message":"b"}`, `{"Message":"a"}`, `{"\u006dessage":"a"}`, `[]`, `null`, ``,
		`{"message":"\ud83d\ude00"}`, `{"message":"a"} x`, `{"a":{"message":"x"},"message":"y"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want struct {
			Message *string `json:"message"`
		}
		wantOK := jsonrpc.Unmarshal(b, &want) == nil && want.Message != nil
		p := CallToolParams{Arguments: b}
		got, ok := p.StringArgument("message")
		if ok != wantOK || ok && got != *want.Message {
			t.Fatalf("StringArgument(%q) = %q, %v; Unmarshal: %v", b, got, ok, want.Message)
		}
	})
}
