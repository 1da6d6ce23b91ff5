package jsonscan_test

import (
	"testing"

	"github.com/mcpfiber/mcpfiber/internal/jsonscan"
)

// Bodies of the hot path of a tools/call.
var (
	benchEnvelope = []byte(`{"jsonrpc":"2.0","id":123,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}`)
	benchParams   = []byte(`{"name":"echo","arguments":{"message":"hello"}}`)
	benchArgs     = []byte(`{"message":"hello","opts":{"n":3,"tags":["a","b",{"x":null,"y":[true,false,-1.5e3]}]},"id":"4f1c2e9a-77b0-4c8e-9d51-0a3b6c9e2d11"}`)
	benchLong     = []byte(`{"path":"/srv/data/reports/2026/q3/summary.md","message":"The quick brown fox jumps over the lazy dog; a longer argument such as a prompt, a file's contents or a query runs to a few hundred bytes of plain text, mostly ASCII."}`)
	benchSpacey   = []byte("{\n  \"jsonrpc\": \"2.0\",\n  \"id\": \"req-42\",\n  \"method\": \"tools/call\",\n  \"params\": {\n    \"name\": \"echo\",\n    \"arguments\": {\n      \"message\": \"h\\u00e9llo \\\"w\\u00f6rld\\\"\\n\\ttab\",\n      \"path\": \"C:\\\\tmp\\\\x\"\n    }\n  }\n}\n")
)

// scanEnvelope reads body as jsonrpc's scanRequest does.
func scanEnvelope(body []byte) bool {
	var version, method, id, params []byte
	sc := jsonscan.Scanner{B: body}
	ok := sc.Object(0, func(k []byte) bool {
		var ok, escaped bool
		switch string(k) {
		case "jsonrpc":
			version, escaped, ok = sc.String()
			return ok && !escaped
		case "method":
			method, escaped, ok = sc.String()
			return ok && !escaped
		case "id":
			id, ok = sc.Value(1)
			return ok
		case "params":
			params, ok = sc.Value(1)
			return ok
		case "result", "error":
			return false
		}
		return sc.Skip(1)
	})
	return ok && sc.AtEnd() && string(version) == "2.0" && len(method) > 0 && id != nil && params != nil
}

// scanParams reads params as mcp's scanCallParams does.
func scanParams(params []byte) bool {
	var name, args []byte
	sc := jsonscan.Scanner{B: params}
	ok := sc.Object(0, func(k []byte) bool {
		var ok, escaped bool
		switch string(k) {
		case "name":
			name, escaped, ok = sc.String()
			return ok && !escaped
		case "arguments", "_meta":
			args, ok = sc.Value(1)
			return ok
		case "inputResponses", "requestState", "task":
			return false
		}
		return sc.Skip(1)
	})
	return ok && sc.AtEnd() && len(name) > 0 && args != nil
}

// stringArgument reads args as mcp's CallToolParams.StringArgument does.
func stringArgument(args []byte, name string) bool {
	var raw []byte
	var found bool
	sc := jsonscan.Scanner{B: args}
	ok := sc.Object(0, func(k []byte) bool {
		if string(k) != name || sc.Peek() != '"' {
			return sc.Skip(1)
		}
		var ok bool
		raw, _, ok = sc.String()
		found = ok
		return ok
	})
	return ok && sc.AtEnd() && found && len(raw) > 0
}

func skipAll(b []byte) bool {
	sc := jsonscan.Scanner{B: b}
	return sc.Skip(0) && sc.AtEnd()
}

// BenchmarkScan: the scans of one tools/call request.
func BenchmarkScan(b *testing.B) {
	for _, bc := range []struct {
		name string
		body []byte
		f    func([]byte) bool
	}{
		{"Envelope", benchEnvelope, scanEnvelope},
		{"Params", benchParams, scanParams},
		{"StringArgument", benchParams[27 : len(benchParams)-1], func(b []byte) bool { return stringArgument(b, "message") }},
		{"LongArgument", benchLong, func(b []byte) bool { return stringArgument(b, "message") }},
		{"SkipEnvelope", benchEnvelope, skipAll},
		{"SkipArgs", benchArgs, skipAll},
		{"SkipSpacey", benchSpacey, skipAll},
		{"Spacey", benchSpacey, scanEnvelope},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if !bc.f(bc.body) {
				b.Fatalf("%s refuses %s", bc.name, bc.body)
			}
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				bc.f(bc.body)
			}
		})
	}
}
