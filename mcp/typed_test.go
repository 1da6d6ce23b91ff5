package mcp_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// toolSession returns a legacy session of a Server filled by setup.
func toolSession(tb testing.TB, setup func(*mcp.Server)) mcp.Conn {
	tb.Helper()
	s := mcp.NewServer(mcp.Implementation{Name: "m", Version: "1"}, &mcp.ServerOptions{Logger: quiet})
	setup(s)
	_, conn, jerr := s.Initialize(json.RawMessage(`{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}`))
	if jerr != nil {
		tb.Fatal(jerr)
	}
	tb.Cleanup(func() { conn.Close(); s.Close() })
	return conn
}

// callResult is a tools/call result as a client reads it.
type callResult struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent"`
	IsError           bool            `json:"isError"`
}

func (r *callResult) text() string {
	var b strings.Builder
	for _, c := range r.Content {
		b.WriteString(c.Text)
	}
	return b.String()
}

// callTool calls the tool name with the arguments args (JSON, "" for
// none) and decodes the result; a JSON-RPC error fails the test.
func callTool(tb testing.TB, conn mcp.Conn, name, args string) *callResult {
	tb.Helper()
	params := `{"name":"` + name + `"`
	if args != "" {
		params += `,"arguments":` + args
	}
	b, jerr := conn.Handle(&mcp.Call{Session: conn.State(), Method: "tools/call", ID: json.RawMessage(`1`), Params: json.RawMessage(params + "}"), Out: discard{}})
	if jerr != nil {
		tb.Fatalf("tools/call %s %s: JSON-RPC error %d %s", name, args, jerr.Code, jerr.Message)
	}
	var r callResult
	if err := json.Unmarshal(b, &r); err != nil {
		tb.Fatalf("tools/call %s %s: %v (%s)", name, args, err, b)
	}
	return &r
}

// listedTools returns the tools of tools/list by name.
func listedTools(tb testing.TB, conn mcp.Conn) map[string]*mcp.Tool {
	tb.Helper()
	b, jerr := conn.Handle(&mcp.Call{Session: conn.State(), Method: "tools/list", ID: json.RawMessage(`1`), Out: discard{}})
	if jerr != nil {
		tb.Fatal(jerr)
	}
	var res mcp.ListToolsResult
	if err := json.Unmarshal(b, &res); err != nil {
		tb.Fatal(err)
	}
	m := make(map[string]*mcp.Tool)
	for _, t := range res.Tools {
		m[t.Name] = t
	}
	return m
}

// compactJSON returns s without insignificant white space.
func compactJSON(tb testing.TB, s []byte) string {
	tb.Helper()
	var v any
	if err := json.Unmarshal(s, &v); err != nil {
		tb.Fatalf("%v: %s", err, s)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestValidationPaths checks that arguments that break a hand-written
// input schema are a tool execution error naming the failing value (its
// JSON pointer under "arguments"), the keyword and the schema location,
// and that the handler does not run. The schema uses $ref, enum, pattern,
// prefixItems and patternProperties, so jsonschema-go alone validates.
func TestValidationPaths(t *testing.T) {
	schema := json.RawMessage(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
		`"$defs":{"address":{"type":"object","properties":{"street":{"type":"string"},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["street"]}},` +
		`"properties":{"name":{"type":"string","minLength":1},"age":{"type":"integer","minimum":0},"address":{"$ref":"#/$defs/address"},` +
		`"addresses":{"type":"array","items":{"$ref":"#/$defs/address"}},"pair":{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}]},` +
		`"tags":{"type":"array","items":{"type":"string"},"maxItems":2},"color":{"enum":["red","blue"]}},` +
		`"patternProperties":{"^x-":{"type":"string"}},"required":["name"],"additionalProperties":false}`)
	var ran atomic.Int64
	conn := toolSession(t, func(s *mcp.Server) {
		s.AddTool(&mcp.Tool{Name: "v", InputSchema: schema}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			ran.Add(1)
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("ok")}}, nil
		})
	})
	for _, tc := range []struct {
		args string
		want string // "" is valid; else the message after "invalid arguments for tool v: "
	}{
		{`{"name":"a"}`, ""},
		{`{"name":"a","age":3,"address":{"street":"s","zip":"12345"},"tags":["x"],"color":"red","pair":["a",1],"x-y":"z"}`, ""},
		{``, `at arguments: required: missing properties: ["name"] (schema root)`},
		{`null`, `at arguments: required: missing properties: ["name"] (schema root)`},
		{`{}`, `at arguments: required: missing properties: ["name"] (schema root)`},
		{`{"name":""}`, `at arguments/name: minLength: "" contains 0 Unicode code points, fewer than 1 (schema /properties/name)`},
		{`{"name":7}`, `at arguments/name: type: 7 has type "integer", want "string" (schema /properties/name)`},
		{`{"name":"a","age":1.5}`, `at arguments/age: type: 1.5 has type "number", want "integer" (schema /properties/age)`},
		{`{"name":"a","age":-1}`, `at arguments/age: minimum: -1/1 is less than 0.000000 (schema /properties/age)`},
		{`{"name":"a","address":{}}`, `at arguments/address: required: missing properties: ["street"] (schema /$defs/address)`},
		{`{"name":"a","address":{"street":"s","zip":"1"}}`, `at arguments/address/zip: pattern: "1" does not match regular expression "^[0-9]{5}$" (schema /$defs/address/properties/zip)`},
		{`{"name":"a","addresses":[{"street":"s"},{"street":"t"},{"street":3}]}`, `at arguments/addresses/2/street: type: 3 has type "integer", want "string" (schema /$defs/address/properties/street)`},
		{`{"name":"a","addresses":[{"street":"s"},{}]}`, `at arguments/addresses/1: required: missing properties: ["street"] (schema /$defs/address)`},
		{`{"name":"a","pair":["a","b"]}`, `at arguments/pair/1: type: b has type "string", want "integer" (schema /properties/pair/prefixItems/1)`},
		{`{"name":"a","tags":["x","y","z"]}`, `at arguments/tags: maxItems: array length 3 is greater than 2 (schema /properties/tags)`},
		{`{"name":"a","tags":["x",1]}`, `at arguments/tags/1: type: 1 has type "integer", want "string" (schema /properties/tags/items)`},
		{`{"name":"a","color":"green"}`, `at arguments/color: enum: green does not equal any of: [red blue] (schema /properties/color)`},
		{`{"name":"a","x-a/b":1}`, `at arguments/x-a~1b: type: 1 has type "integer", want "string" (schema /patternProperties/^x-)`},
		{`{"name":"a","Name":"b"}`, `at arguments: unexpected additional properties ["Name"] (schema root)`},
	} {
		before := ran.Load()
		r := callTool(t, conn, "v", tc.args)
		const prefix = "invalid arguments for tool v: "
		switch {
		case tc.want == "" && (r.IsError || r.text() != "ok"):
			t.Errorf("call(%s) = %q (isError %v), want ok", tc.args, r.text(), r.IsError)
		case tc.want != "" && (!r.IsError || !strings.HasPrefix(r.text(), prefix+tc.want)):
			t.Errorf("call(%s) = %q (isError %v), want\n%s", tc.args, r.text(), r.IsError, prefix+tc.want)
		case tc.want != "" && ran.Load() != before:
			t.Errorf("call(%s): the handler ran on invalid arguments", tc.args)
		}
	}
}

// TestValidationPathsBothPaths checks that a schema the fast path
// compiles (the shape jsonschema-go infers for typed tools) reports the
// same messages as the same schema validated by jsonschema-go alone
// ("minProperties":0 keeps the fast path out): the fast path only ever
// accepts, and every refusal is explained by jsonschema-go.
func TestValidationPathsBothPaths(t *testing.T) {
	const body = `"type":"object","properties":{` +
		`"items":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"qty":{"type":"integer","minimum":1}},"required":["name"],"additionalProperties":false}},` +
		`"opts":{"type":"object","additionalProperties":{"type":"boolean"}},"mode":{"type":["null","string"],"maxLength":3}},` +
		`"required":["items"],"additionalProperties":false`
	conn := toolSession(t, func(s *mcp.Server) {
		ok := func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("ok")}}, nil
		}
		s.AddTool(&mcp.Tool{Name: "fast", InputSchema: json.RawMessage(`{` + body + `}`)}, ok)
		s.AddTool(&mcp.Tool{Name: "slow", InputSchema: json.RawMessage(`{"minProperties":0,` + body + `}`)}, ok)
	})
	for _, tc := range []struct{ args, want string }{
		{`{"items":[]}`, ``},
		{`{"items":[{"name":"a","qty":2}],"opts":{"x":true},"mode":null}`, ``},
		{`{}`, `at arguments: required: missing properties: ["items"] (schema root)`},
		{`{"items":{}}`, `at arguments/items: type: map[] has type "object", want "array" (schema /properties/items)`},
		{`{"items":[{"name":"a"},{"name":"b"},{"name":3}]}`, `at arguments/items/2/name: type: 3 has type "integer", want "string" (schema /properties/items/items/properties/name)`},
		{`{"items":[{"name":"a"},{"qty":1}]}`, `at arguments/items/1: required: missing properties: ["name"] (schema /properties/items/items)`},
		{`{"items":[{"name":"a","qty":0}]}`, `at arguments/items/0/qty: minimum: 0/1 is less than 1.000000 (schema /properties/items/items/properties/qty)`},
		{`{"items":[{"name":"a","size":1}]}`, `at arguments/items/0: unexpected additional properties ["size"] (schema /properties/items/items)`},
		{`{"items":[],"opts":{"a":true,"b":"no"}}`, `at arguments/opts/b: type: no has type "string", want "boolean" (schema /properties/opts/additionalProperties)`},
		{`{"items":[],"opts":{"a~/b":1}}`, `at arguments/opts/a~0~1b: type: 1 has type "integer", want "boolean" (schema /properties/opts/additionalProperties)`},
		{`{"items":[],"mode":"long"}`, `at arguments/mode: maxLength: "long" contains 4 Unicode code points, more than 3 (schema /properties/mode)`},
		{`{"items":[],"extra":1}`, `at arguments: unexpected additional properties ["extra"] (schema root)`},
	} {
		var got [2]string
		for i, tool := range []string{"fast", "slow"} {
			r := callTool(t, conn, tool, tc.args)
			if r.IsError != (tc.want != "") {
				t.Errorf("call(%s, %s) = %q (isError %v)", tool, tc.args, r.text(), r.IsError)
			}
			got[i], _ = strings.CutPrefix(r.text(), "invalid arguments for tool "+tool+": ")
		}
		if tc.want != "" && (got[0] != tc.want || got[1] != tc.want) {
			t.Errorf("call(%s):\nfast %s\nslow %s\nwant %s", tc.args, got[0], got[1], tc.want)
		}
	}
}

// TestOutputValidation checks structured content against the output
// schema, for raw handlers (any Go value) and typed ones.
func TestOutputValidation(t *testing.T) {
	out := json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}`)
	conn := toolSession(t, func(s *mcp.Server) {
		raw := func(sc any) mcp.ToolHandler {
			return func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{}, StructuredContent: sc}, nil
			}
		}
		s.AddTool(&mcp.Tool{Name: "good-map", InputSchema: objectSchema, OutputSchema: out}, raw(map[string]any{"n": 1}))
		s.AddTool(&mcp.Tool{Name: "good-struct", InputSchema: objectSchema, OutputSchema: out}, raw(struct {
			N int `json:"n"`
		}{2}))
		s.AddTool(&mcp.Tool{Name: "bad-map", InputSchema: objectSchema, OutputSchema: out}, raw(map[string]any{"n": "one"}))
		s.AddTool(&mcp.Tool{Name: "bad-raw", InputSchema: objectSchema, OutputSchema: out}, raw(json.RawMessage(`{}`)))
		mcp.AddTool(s, &mcp.Tool{Name: "bad-typed", OutputSchema: out}, func(context.Context, *mcp.CallToolRequest, any) (*mcp.CallToolResult, map[string]string, error) {
			return nil, map[string]string{"n": "x"}, nil
		})
	})
	for _, tc := range []struct{ tool, want string }{
		{"good-map", ""},
		{"good-struct", ""},
		{"bad-map", `at structuredContent/n: type: one has type "string", want "integer" (schema /properties/n)`},
		{"bad-raw", `at structuredContent: required: missing properties: ["n"] (schema root)`},
		{"bad-typed", `at structuredContent/n: type: x has type "string", want "integer" (schema /properties/n)`},
	} {
		r := callTool(t, conn, tc.tool, `{}`)
		if tc.want == "" && r.IsError || tc.want != "" && (!r.IsError || !strings.Contains(r.text(), "the server's output did not match its outputSchema") || !strings.Contains(r.text(), tc.want)) {
			t.Errorf("call(%s) = %q (isError %v), want %q", tc.tool, r.text(), r.IsError, tc.want)
		}
	}
}

type greetIn struct {
	Name  string   `json:"name" jsonschema:"who to greet"`
	Times int      `json:"times,omitempty"`
	Tags  []string `json:"tags,omitempty"`
}

type greetOut struct {
	Greeting string         `json:"greeting"`
	Count    map[string]int `json:"count,omitempty"`
}

func greet(_ context.Context, req *mcp.CallToolRequest, in greetIn) (*mcp.CallToolResult, greetOut, error) {
	switch in.Name {
	case "fail":
		return nil, greetOut{}, errors.New("no greeting for fail")
	case "rpc":
		return nil, greetOut{}, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "rpc says no")
	case "content":
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("hand-made")}}, greetOut{Greeting: "hi content"}, nil
	}
	out := greetOut{Greeting: strings.Repeat("hi "+in.Name+" ", max(in.Times, 1))}
	if len(in.Tags) > 0 {
		out.Count = map[string]int{"tags": len(in.Tags)}
	}
	return nil, out, nil
}

// TestTypedRoundTrip checks a typed tool end to end: the listed schemas,
// structured content and its text copy, errors, and that a schema set by
// the caller wins over inference.
func TestTypedRoundTrip(t *testing.T) {
	callerIn := json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}}}`)
	conn := toolSession(t, func(s *mcp.Server) {
		mcp.AddTool(s, &mcp.Tool{Name: "greet"}, greet)
		mcp.AddTool(s, &mcp.Tool{Name: "greet-loose", InputSchema: callerIn}, greet)
		mcp.AddTool(s, &mcp.Tool{Name: "untyped"}, func(_ context.Context, _ *mcp.CallToolRequest, in any) (*mcp.CallToolResult, any, error) {
			b, _ := json.Marshal(in)
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(string(b))}}, nil, nil
		})
		mcp.AddTool(s, &mcp.Tool{Name: "ptr"}, func(_ context.Context, _ *mcp.CallToolRequest, in *greetIn) (*mcp.CallToolResult, *greetOut, error) {
			if in == nil {
				return nil, nil, errors.New("nil input")
			}
			return nil, nil, nil
		})
	})

	tools := listedTools(t, conn)
	wantIn := `{"additionalProperties":false,"properties":{"name":{"description":"who to greet","type":"string"},"tags":{"items":{"type":"string"},"type":["null","array"]},"times":{"type":"integer"}},"required":["name"],"type":"object"}`
	wantOut := `{"additionalProperties":false,"properties":{"count":{"additionalProperties":{"type":"integer"},"type":"object"},"greeting":{"type":"string"}},"required":["greeting"],"type":"object"}`
	for _, tc := range []struct{ tool, in, out string }{
		{"greet", wantIn, wantOut},
		{"greet-loose", compactJSON(t, callerIn), wantOut},
		{"untyped", `{"type":"object"}`, ""},
		{"ptr", wantIn, wantOut},
	} {
		tl := tools[tc.tool]
		if tl == nil {
			t.Fatalf("tools/list has no %s", tc.tool)
		}
		if got := compactJSON(t, tl.InputSchema); got != tc.in {
			t.Errorf("%s inputSchema = %s, want %s", tc.tool, got, tc.in)
		}
		if got := string(tl.OutputSchema); tc.out == "" && got != "" || tc.out != "" && compactJSON(t, tl.OutputSchema) != tc.out {
			t.Errorf("%s outputSchema = %s, want %s", tc.tool, got, tc.out)
		}
	}

	for _, tc := range []struct {
		tool, args       string
		isError          bool
		text, structured string
	}{
		{"greet", `{"name":"go"}`, false, `{"greeting":"hi go "}`, `{"greeting":"hi go "}`},
		{"greet", `{"name":"go","times":2,"tags":["a","b"]}`, false, `{"greeting":"hi go hi go ","count":{"tags":2}}`, `{"count":{"tags":2},"greeting":"hi go hi go "}`},
		{"greet", `{"name":"content"}`, false, `hand-made`, `{"greeting":"hi content"}`},
		{"greet", `{"name":"fail"}`, true, `no greeting for fail`, ``},
		{"greet", `{"name":"go","times":"2"}`, true, `invalid arguments for tool greet: at arguments/times: type: 2 has type "string", want "integer" (schema /properties/times)`, ``},
		// Exact member names: with the inferred schema a case variant is
		// an unknown property; with a caller's looser schema it is let
		// through, and it is still not the field.
		{"greet", `{"Name":"go"}`, true, `unexpected additional properties ["Name"]`, ``},
		{"greet-loose", `{"name":"a","Name":"go"}`, false, `{"greeting":"hi a "}`, `{"greeting":"hi a "}`},
		{"greet-loose", `{"NAME":"go","Times":3}`, false, `{"greeting":"hi  "}`, `{"greeting":"hi  "}`},
		// A type the caller's schema lets through fails decoding.
		{"greet-loose", `{"name":"a","times":"3"}`, true, `invalid arguments for tool greet-loose: `, ``},
		{"untyped", ``, false, `{}`, ``},
		{"untyped", `{"x":[1,2]}`, false, `{"x":[1,2]}`, ``},
		{"ptr", ``, true, `required: missing properties: ["name"]`, ``},
		{"ptr", `{"name":"p"}`, false, `{"greeting":""}`, `{"greeting":""}`},
	} {
		r := callTool(t, conn, tc.tool, tc.args)
		if r.IsError != tc.isError || tc.isError && !strings.Contains(r.text(), tc.text) || !tc.isError && r.text() != tc.text {
			t.Errorf("call(%s, %s) = %q (isError %v), want %q (isError %v)", tc.tool, tc.args, r.text(), r.IsError, tc.text, tc.isError)
		}
		if got := string(r.StructuredContent); tc.structured == "" && got != "" || tc.structured != "" && compactJSON(t, r.StructuredContent) != tc.structured {
			t.Errorf("call(%s, %s) structuredContent = %s, want %s", tc.tool, tc.args, got, tc.structured)
		}
	}

	// A *jsonrpc.Error from the handler stays a JSON-RPC error.
	_, jerr := conn.Handle(&mcp.Call{Session: conn.State(), Method: "tools/call", ID: json.RawMessage(`1`), Params: json.RawMessage(`{"name":"greet","arguments":{"name":"rpc"}}`), Out: discard{}})
	if jerr == nil || jerr.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("call(greet, rpc) error = %v, want code %d", jerr, jsonrpc.CodeInvalidParams)
	}
}

// TestAddToolPanics checks that bad schemas are refused when the tool is
// added, with the tool's name in the message.
func TestAddToolPanics(t *testing.T) {
	nop := func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return nil, nil }
	for _, tc := range []struct {
		name string
		add  func(*mcp.Server)
		want string
	}{
		{"bad-ref", func(s *mcp.Server) {
			s.AddTool(&mcp.Tool{Name: "x", InputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"$ref":"#/$defs/nope"}}}`)}, nop)
		}, `mcp: tool "x": inputSchema: `},
		{"bad-output", func(s *mcp.Server) {
			s.AddTool(&mcp.Tool{Name: "x", InputSchema: objectSchema, OutputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"pattern":"("}}}`)}, nop)
		}, `mcp: tool "x": outputSchema: `},
		{"typed-not-object", func(s *mcp.Server) {
			mcp.AddTool(s, &mcp.Tool{Name: "x"}, func(context.Context, *mcp.CallToolRequest, int) (*mcp.CallToolResult, any, error) {
				return nil, nil, nil
			})
		}, `mcp: tool "x": inputSchema must be a JSON Schema with "type":"object"`},
		{"typed-chan", func(s *mcp.Server) {
			mcp.AddTool(s, &mcp.Tool{Name: "x"}, func(context.Context, *mcp.CallToolRequest, any) (*mcp.CallToolResult, chan int, error) {
				return nil, nil, nil
			})
		}, `mcp: tool "x": inferring the output schema from chan int`},
	} {
		s := mcp.NewServer(mcp.Implementation{Name: "m", Version: "1"}, &mcp.ServerOptions{Logger: quiet})
		got := func() (msg string) {
			defer func() { msg, _ = recover().(string) }()
			tc.add(s)
			return ""
		}()
		s.Close()
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: panic %q, want prefix %q", tc.name, got, tc.want)
		}
	}
}

type echoIn struct {
	Message string `json:"message"`
}

type echoOut struct {
	Message string `json:"message"`
}

var echoSchema = json.RawMessage(`{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}`)

// rawEcho is echo as hand-written tools do it: decode, check, answer.
func rawEcho(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var in echoIn
	if err := jsonrpc.Unmarshal(req.Params.Arguments, &in); err != nil {
		return nil, err
	}
	return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(in.Message)}}, nil
}

// BenchmarkToolCall measures a tools/call of echo through Conn.Handle:
// tool=raw is the hand-written handler above (its arguments validated
// against echoSchema), tool=typed the same echo through [mcp.AddTool]
// (inferred schemas, arguments validated and decoded, structured content
// encoded and copied as text; not validated again, since echoOut
// conforms to its inferred schema by construction).
//
// go test ./mcp -run='^$' -bench=BenchmarkToolCall -benchmem -count=10
func BenchmarkToolCall(b *testing.B) {
	conn := toolSession(b, func(s *mcp.Server) {
		s.AddTool(&mcp.Tool{Name: "raw", InputSchema: echoSchema}, rawEcho)
		mcp.AddTool(s, &mcp.Tool{Name: "typed"}, func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
			return nil, echoOut(in), nil
		})
	})
	for _, tool := range []string{"raw", "typed"} {
		b.Run("tool="+tool, func(b *testing.B) {
			call := &mcp.Call{Session: conn.State(), Method: "tools/call", ID: json.RawMessage(`1`),
				Params: json.RawMessage(`{"name":"` + tool + `","arguments":{"message":"hello"}}`), Out: discard{}}
			b.ReportAllocs()
			var out []byte
			var jerr *jsonrpc.Error
			for b.Loop() {
				out, jerr = conn.Handle(call)
			}
			if jerr != nil || !strings.Contains(string(out), "hello") || strings.Contains(string(out), "isError") {
				b.Fatalf("Handle(%s) = %s, %v", tool, out, jerr)
			}
		})
	}
}
