package mcp_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

func statelessServer(t *testing.T, opts *mcp.ServerOptions) *env {
	return start(t, opts, func(s *mcp.Server) {
		s.AddTool(&mcp.Tool{Name: "echo", Description: "echo", InputSchema: json.RawMessage(
			`{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"},"n":{"type":"integer","x-mcp-header":"N"},"flag":{"type":"boolean","x-mcp-header":"Flag"},"msg":{"type":"string"}}}`)},
			func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(string(req.Params.Arguments))}}, nil
			})
		s.AddTool(&mcp.Tool{Name: "ask", Description: "asks a name, with state", InputSchema: objectSchema},
			func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				if c, ok := req.Params.InputResponses.Accepted("who"); ok {
					return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("hi " + c["name"].(string) + " state=" + req.Params.RequestState)}}, nil
				}
				return &mcp.CallToolResult{
					InputRequests: mcp.InputRequests{"who": mcp.ElicitInput(&mcp.ElicitParams{Message: "name?", RequestedSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}}}`)})},
					RequestState:  "secret-state",
				}, nil
			})
		s.AddTool(&mcp.Tool{Name: "ask2", Description: "same shape, other tool", InputSchema: objectSchema},
			func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("state=" + req.Params.RequestState)}}, nil
			})
		s.AddTool(&mcp.Tool{Name: "chatty", Description: "progress and a log line", InputSchema: objectSchema},
			func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				_ = req.Progress(1, 2, "half")
				_ = req.Log(mcp.LevelInfo, "t", "logged")
				if _, err := req.Elicit(context.Background(), &mcp.ElicitParams{Message: "x"}); err != mcp.ErrStateless {
					return nil, err
				}
				return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("done")}}, nil
			})
		s.AddPrompt(&mcp.Prompt{Name: "p", Description: "a prompt"}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: mcp.TextContent("hello")}}}, nil
		})
		s.AddResource(&mcp.Resource{URI: "test://a", Name: "a"}, func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "A"}}}, nil
		})
	})
}

// TestStatelessDiscover checks server/discover (2026-07-28
// server/discover): versions, capabilities, serverInfo, caching hints.
func TestStatelessDiscover(t *testing.T) {
	e := statelessServer(t, &mcp.ServerOptions{CacheTTL: 1500 * time.Millisecond, CacheScope: mcp.CacheScopePublic})
	r := e.modern("server/discover", nil, nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	var res struct {
		ResultType        string         `json:"resultType"`
		SupportedVersions []string       `json:"supportedVersions"`
		Capabilities      map[string]any `json:"capabilities"`
		TTLMs             *int64         `json:"ttlMs"`
		CacheScope        string         `json:"cacheScope"`
		Meta              map[string]struct {
			Name string `json:"name"`
		} `json:"_meta"`
	}
	r.result(t, &res)
	if res.ResultType != "complete" || !slices.Equal(res.SupportedVersions, mcp.SupportedVersions) {
		t.Errorf("resultType %q, supportedVersions %v", res.ResultType, res.SupportedVersions)
	}
	for _, c := range []string{"tools", "prompts", "resources"} {
		if res.Capabilities[c] == nil {
			t.Errorf("capability %s not declared: %v", c, res.Capabilities)
		}
	}
	if res.TTLMs == nil || *res.TTLMs != 1500 || res.CacheScope != "public" {
		t.Errorf("ttlMs %v, cacheScope %q, want 1500 and public", res.TTLMs, res.CacheScope)
	}
	if res.Meta[mcp.MetaServerInfo].Name != "mcp-test" {
		t.Errorf("_meta serverInfo %v", res.Meta)
	}
}

// TestStatelessErrors checks the refusals of HandleStateless and their
// HTTP statuses (2026-07-28 basic/transports: -32601 is 404; -32602,
// -32020, -32021, -32022 are 400), each with the request's id.
func TestStatelessErrors(t *testing.T) {
	e := statelessServer(t, nil)
	noMeta := map[string]any{"_meta": map[string]any{mcp.MetaProtocolVersion: nil}}
	cases := []struct {
		name   string
		method string
		params map[string]any
		over   map[string]string
		status int
		code   int64
	}{
		{"unknown method", "nope/nope", nil, nil, 404, jsonrpc.CodeMethodNotFound},
		{"initialize is gone", "initialize", nil, nil, 404, jsonrpc.CodeMethodNotFound},
		{"ping is gone", "ping", nil, nil, 404, jsonrpc.CodeMethodNotFound},
		{"setLevel is gone", "logging/setLevel", map[string]any{"level": "info"}, nil, 404, jsonrpc.CodeMethodNotFound},
		{"subscribe is gone", "resources/subscribe", map[string]any{"uri": "test://a"}, nil, 404, jsonrpc.CodeMethodNotFound},
		{"no _meta version", "tools/list", noMeta, nil, 400, jsonrpc.CodeInvalidParams},
		{"no version header", "tools/list", nil, map[string]string{"MCP-Protocol-Version": ""}, 400, mcp.CodeHeaderMismatch},
		{"header != _meta", "tools/list", nil, map[string]string{"MCP-Protocol-Version": "2025-11-25"}, 400, mcp.CodeHeaderMismatch},
		{"no Mcp-Method", "tools/list", nil, map[string]string{"Mcp-Method": ""}, 400, mcp.CodeHeaderMismatch},
		{"Mcp-Method case", "tools/list", nil, map[string]string{"Mcp-Method": "TOOLS/LIST"}, 400, mcp.CodeHeaderMismatch},
		{"no Mcp-Name", "tools/call", map[string]any{"name": "echo"}, map[string]string{"Mcp-Name": ""}, 400, mcp.CodeHeaderMismatch},
		{"wrong Mcp-Name", "tools/call", map[string]any{"name": "echo"}, map[string]string{"Mcp-Name": "ask"}, 400, mcp.CodeHeaderMismatch},
		{"bad base64 Mcp-Name", "tools/call", map[string]any{"name": "echo"}, map[string]string{"Mcp-Name": "=?base64?ZWNob?="}, 400, mcp.CodeHeaderMismatch},
		{"Mcp-Name of resources/read", "resources/read", map[string]any{"uri": "test://a"}, map[string]string{"Mcp-Name": "test://b"}, 400, mcp.CodeHeaderMismatch},
		{"param header missing", "tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"region": "us"}}, nil, 400, mcp.CodeHeaderMismatch},
		{"param header differs", "tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"region": "us"}}, map[string]string{"Mcp-Param-Region": "eu"}, 400, mcp.CodeHeaderMismatch},
		{"param header without argument", "tools/call", map[string]any{"name": "echo", "arguments": map[string]any{}}, map[string]string{"Mcp-Param-Region": "eu"}, 400, mcp.CodeHeaderMismatch},
		{"param header control char", "tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"region": "u\x01s"}}, map[string]string{"Mcp-Param-Region": "=?base64?dQFz?="}, 200, 0},
		{"integer header differs", "tools/call", map[string]any{"name": "echo", "arguments": map[string]any{"n": 42}}, map[string]string{"Mcp-Param-N": "43"}, 400, mcp.CodeHeaderMismatch},
		{"unknown tool", "tools/call", map[string]any{"name": "zzz"}, nil, 400, jsonrpc.CodeInvalidParams},
		{"unknown resource", "resources/read", map[string]any{"uri": "test://nope"}, nil, 400, jsonrpc.CodeInvalidParams},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.modern(tc.method, tc.params, nil, tc.over)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (%v)", r.status, tc.status, r.msgs)
			}
			m := r.final(t)
			if tc.code == 0 {
				if m.Error != nil {
					t.Fatalf("error %d %s", m.Error.Code, m.Error.Message)
				}
				return
			}
			if got := r.errCode(t); got != tc.code {
				t.Fatalf("code %d, want %d (%s)", got, tc.code, m.Error.Message)
			}
			if len(m.ID) == 0 || string(m.ID) == "null" {
				t.Errorf("error without the request id")
			}
			if !strings.HasPrefix(r.ct, "application/json") {
				t.Errorf("content type %q, want application/json", r.ct)
			}
		})
	}

	t.Run("unsupported version", func(t *testing.T) {
		params := map[string]any{"_meta": map[string]any{mcp.MetaProtocolVersion: "v999.0.0"}}
		r := e.modern("tools/list", params, nil, map[string]string{"MCP-Protocol-Version": "v999.0.0"})
		if r.status != 400 || r.errCode(t) != mcp.CodeUnsupportedProtocolVersion {
			t.Fatalf("status %d, %v", r.status, r.msgs)
		}
		var data struct {
			Supported []string `json:"supported"`
			Requested string   `json:"requested"`
		}
		if err := json.Unmarshal(r.final(t).Error.Data, &data); err != nil || data.Requested != "v999.0.0" || !slices.Contains(data.Supported, mcp.Version20260728) {
			t.Errorf("data %s", r.final(t).Error.Data)
		}
	})
	t.Run("missing capability", func(t *testing.T) {
		// ask needs elicitation, which these requests do not declare.
		r := e.modern("tools/call", map[string]any{"name": "ask"}, nil, nil)
		if r.status != 400 || r.errCode(t) != mcp.CodeMissingRequiredClientCapability {
			t.Fatalf("status %d, %v", r.status, r.msgs)
		}
		if !strings.Contains(string(r.final(t).Error.Data), `"requiredCapabilities":{"elicitation"`) {
			t.Errorf("data %s", r.final(t).Error.Data)
		}
	})
}

// TestStatelessHeaderValues checks the accepted forms of header values:
// spaces and tabs trimmed, names in any case, base64 decoded, integers
// and booleans compared as values, literals that only look encoded.
func TestStatelessHeaderValues(t *testing.T) {
	e := statelessServer(t, nil)
	call := func(args map[string]any, over map[string]string) *reply {
		return e.modern("tools/call", map[string]any{"name": "echo", "arguments": args}, nil, over)
	}
	ok := []struct {
		name string
		args map[string]any
		over map[string]string
	}{
		{"OWS", nil, map[string]string{"Mcp-Name": " \techo\t "}},
		{"lower-case names", nil, map[string]string{"mcp-method": "tools/call", "mcp-name": "echo"}},
		{"base64 name", nil, map[string]string{"Mcp-Name": "=?base64?ZWNobw==?="}},
		{"base64 param", map[string]any{"region": "Hello, 世界"}, map[string]string{"Mcp-Param-Region": "=?base64?SGVsbG8sIOS4lueVjA==?="}},
		{"literal prefix only", map[string]any{"region": "=?base64?SGVsbG8="}, map[string]string{"Mcp-Param-Region": "=?base64?SGVsbG8="}},
		{"integer as number", map[string]any{"n": 42.0}, map[string]string{"Mcp-Param-N": "42"}},
		{"boolean", map[string]any{"flag": true}, map[string]string{"Mcp-Param-Flag": "true"}},
		{"null argument needs no header", map[string]any{"region": nil}, nil},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			r := call(tc.args, tc.over)
			if r.status != http.StatusOK || r.final(t).Error != nil {
				t.Fatalf("status %d, %v", r.status, r.final(t).Error)
			}
		})
	}
}

// TestStatelessResults checks resultType, caching hints and serverInfo on
// results, and that a request without logLevel gets no log messages.
func TestStatelessResults(t *testing.T) {
	e := statelessServer(t, nil)
	for _, m := range []string{"tools/list", "prompts/list", "resources/list", "resources/templates/list"} {
		var res struct {
			ResultType string `json:"resultType"`
			TTLMs      *int64 `json:"ttlMs"`
			CacheScope string `json:"cacheScope"`
		}
		e.modern(m, nil, nil, nil).result(t, &res)
		if res.ResultType != "complete" || res.TTLMs == nil || *res.TTLMs != 0 || res.CacheScope != "private" {
			t.Errorf("%s: resultType %q ttlMs %v cacheScope %q", m, res.ResultType, res.TTLMs, res.CacheScope)
		}
	}
	var read struct {
		ResultType string `json:"resultType"`
		TTLMs      *int64 `json:"ttlMs"`
	}
	e.modern("resources/read", map[string]any{"uri": "test://a"}, nil, nil).result(t, &read)
	if read.ResultType != "complete" || read.TTLMs == nil {
		t.Errorf("resources/read: %+v", read)
	}

	t.Run("no logLevel", func(t *testing.T) {
		params := map[string]any{"name": "chatty", "_meta": map[string]any{"progressToken": "tok"}}
		r := e.modern("tools/call", params, nil, nil)
		var methods []string
		for _, m := range r.msgs {
			methods = append(methods, m.Method)
		}
		if !slices.Equal(methods, []string{"notifications/progress", ""}) || !strings.HasPrefix(r.ct, "text/event-stream") {
			t.Fatalf("messages %q (%s), want progress then the response on SSE", methods, r.ct)
		}
		if textOf(t, r.final(t).Result) != "done" {
			t.Errorf("result %s", r.final(t).Result)
		}
	})
	t.Run("logLevel", func(t *testing.T) {
		params := map[string]any{"name": "chatty", "_meta": map[string]any{mcp.MetaLogLevel: "debug"}}
		r := e.modern("tools/call", params, nil, nil)
		if len(r.msgs) != 2 || r.msgs[0].Method != "notifications/message" {
			t.Fatalf("messages %v, want a log message then the response", r.msgs)
		}
	})
}

// TestStatelessInputRequired checks input-required results: the sealed
// requestState round trip, and the refusal of tampered and foreign state
// (expiry: TestSealerExpiry).
func TestStatelessInputRequired(t *testing.T) {
	e := statelessServer(t, nil)
	caps := map[string]any{"elicitation": map[string]any{}}
	var ir struct {
		ResultType    string                      `json:"resultType"`
		InputRequests map[string]mcp.InputRequest `json:"inputRequests"`
		RequestState  string                      `json:"requestState"`
	}
	e.modern("tools/call", map[string]any{"name": "ask"}, caps, nil).result(t, &ir)
	if ir.ResultType != "input_required" || ir.InputRequests["who"].Method != "elicitation/create" || ir.RequestState == "" {
		t.Fatalf("round 1: %+v", ir)
	}
	if strings.Contains(ir.RequestState, "secret-state") {
		t.Fatalf("requestState %q carries the plain state", ir.RequestState)
	}
	answer := map[string]any{"who": map[string]any{"action": "accept", "content": map[string]any{"name": "Ada"}}}

	r := e.modern("tools/call", map[string]any{"name": "ask", "inputResponses": answer, "requestState": ir.RequestState}, caps, nil)
	if got := textOf(t, r.final(t).Result); got != "hi Ada state=secret-state" {
		t.Errorf("round 2: %q", got)
	}
	for name, state := range map[string]string{
		"tampered":  ir.RequestState + "-TAMPERED",
		"flipped":   flip(ir.RequestState),
		"truncated": ir.RequestState[:len(ir.RequestState)-4],
		"garbage":   "not base64 at all!",
	} {
		r := e.modern("tools/call", map[string]any{"name": "ask", "inputResponses": answer, "requestState": state}, caps, nil)
		if r.status != 400 || r.errCode(t) != jsonrpc.CodeInvalidParams {
			t.Errorf("%s state: status %d, %v", name, r.status, r.msgs)
		}
	}
	// Bound to the tool it was issued for.
	r = e.modern("tools/call", map[string]any{"name": "ask2", "requestState": ir.RequestState}, caps, nil)
	if r.status != 400 || !strings.Contains(r.final(t).Error.Message, "requestState") {
		t.Errorf("state of another tool: status %d, %v", r.status, r.msgs)
	}
}

func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestStatelessListen checks subscriptions/listen: the acknowledgement
// first, then only the notifications asked for, each with the
// subscription ID, delivered at once; the stream ends with a result when
// the server drains.
func TestStatelessListen(t *testing.T) {
	e := statelessServer(t, nil)
	open := func(filter map[string]any) (<-chan *msg, func()) {
		t.Helper()
		params := map[string]any{"notifications": filter, "_meta": map[string]any{
			mcp.MetaProtocolVersion: mcp.Version20260728, mcp.MetaClientCapabilities: map[string]any{}}}
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": "sub-1", "method": "subscriptions/listen", "params": params})
		resp := e.send(map[string]string{"MCP-Protocol-Version": mcp.Version20260728, "Mcp-Method": "subscriptions/listen"}, body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("listen: status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return readSSE(resp.Body), func() { resp.Body.Close() }
	}
	tools, closeTools := open(map[string]any{"toolsListChanged": true, "resourceSubscriptions": []string{"test://a"}})
	defer closeTools()
	prompts, closePrompts := open(map[string]any{"promptsListChanged": true})
	defer closePrompts()
	for _, ch := range []<-chan *msg{tools, prompts} {
		ack := next(t, ch)
		if ack.Method != "notifications/subscriptions/acknowledged" || !strings.Contains(string(ack.Params), `"io.modelcontextprotocol/subscriptionId":"sub-1"`) {
			t.Fatalf("first message %s %s, want the acknowledgement", ack.Method, ack.Params)
		}
	}
	e.srv.AddTool(&mcp.Tool{Name: "new", InputSchema: objectSchema}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return nil, nil })
	e.srv.ResourceUpdated("test://a")
	e.srv.ResourceUpdated("test://other")
	e.srv.AddPrompt(&mcp.Prompt{Name: "new"}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) { return nil, nil })

	if m := next(t, tools); m.Method != "notifications/tools/list_changed" || !strings.Contains(string(m.Params), "sub-1") {
		t.Errorf("tools stream: %s %s", m.Method, m.Params)
	}
	if m := next(t, tools); m.Method != "notifications/resources/updated" || !strings.Contains(string(m.Params), `"uri":"test://a"`) {
		t.Errorf("tools stream: %s %s", m.Method, m.Params)
	}
	// The prompts stream skipped the tools and resource notifications.
	if m := next(t, prompts); m.Method != "notifications/prompts/list_changed" {
		t.Errorf("prompts stream: %s %s", m.Method, m.Params)
	}
	// Draining ends both streams with a complete result.
	go func() { // owner: the test; exit: Shutdown returns
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.h.Shutdown(ctx, 0)
	}()
	for _, ch := range []<-chan *msg{tools, prompts} {
		for m := next(t, ch); ; m = next(t, ch) {
			if m.isResponse() {
				if !strings.Contains(string(m.Result), `"resultType":"complete"`) {
					t.Errorf("end of stream: %s", m.Result)
				}
				break
			}
		}
	}
}
