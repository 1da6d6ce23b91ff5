package mcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// inlineServer has an inline tool "fast", which answers, and an inline
// tool "asks", which tries to elicit and returns what that gave; "slow"
// is not inline.
func inlineServer() *mcp.Server {
	s := mcp.NewServer(mcp.Implementation{Name: "inline", Version: "0"}, nil)
	obj := json.RawMessage(`{"type":"object"}`)
	s.AddTool(&mcp.Tool{Name: "fast", InputSchema: obj, Inline: true}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("fast")}}, nil
	})
	s.AddTool(&mcp.Tool{Name: "asks", InputSchema: obj, Inline: true}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		_, err := req.Elicit(ctx, &mcp.ElicitParams{Message: "name?", RequestedSchema: json.RawMessage(`{"type":"object","properties":{}}`)})
		if !errors.Is(err, mcp.ErrInlineTool) {
			return nil, errors.New("Elicit in an inline tool: want ErrInlineTool")
		}
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("refused")}}, nil
	})
	s.AddTool(&mcp.Tool{Name: "slow", InputSchema: obj}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{}, nil
	})
	return s
}

// TestInlineCall: InlineCall is true for a tools/call of a Tool.Inline
// tool only, and an inline tool cannot ask the client (ErrInlineTool),
// without waiting for an answer nothing could carry.
func TestInlineCall(t *testing.T) {
	s := inlineServer()
	defer s.Close()
	for _, c := range []struct {
		method, params string
		want           bool
	}{
		{mcp.MethodToolsCall, `{"name":"fast","arguments":{}}`, true},
		{mcp.MethodToolsCall, ` { "arguments" : {"name":"slow"}, "name" : "fast" } `, true},
		{mcp.MethodToolsCall, `{"name":"asks"}`, true},
		{mcp.MethodToolsCall, `{"name":"slow","arguments":{}}`, false},
		{mcp.MethodToolsCall, `{"name":"nope"}`, false},
		{mcp.MethodToolsCall, `{"name":"f\u0061st"}`, false}, // escaped: left to the worker
		// Params that are not JSON ({"name":"fast" …, or a name given
		// twice) never reach InlineCall: the decoder refuses the request.
		{mcp.MethodToolsCall, `["fast"]`, false},
		{mcp.MethodToolsCall, ``, false},
		{mcp.MethodToolsList, `{"name":"fast"}`, false},
	} {
		if got := s.InlineCall(c.method, []byte(c.params)); got != c.want {
			t.Errorf("InlineCall(%s, %s) = %v, want %v", c.method, c.params, got, c.want)
		}
	}
	_, conn, jerr := s.Initialize(json.RawMessage(`{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{}},"clientInfo":{"name":"c","version":"1"}}`))
	if jerr != nil {
		t.Fatal(jerr)
	}
	defer conn.Close()
	conn.State().MarkInitialized()
	res, jerr := conn.Handle(&mcp.Call{Session: conn.State(), Method: mcp.MethodToolsCall, ID: json.RawMessage(`1`), Params: json.RawMessage(`{"name":"asks"}`)})
	if jerr != nil || !json.Valid(res) || string(res) != `{"content":[{"type":"text","text":"refused"}]}` {
		t.Errorf("asks = %s, %v; want the text refused", res, jerr)
	}
}

// TestCloseCancelsRequests: the end of the session (SessionState.Close)
// cancels every request in flight, including two that share an ID (a
// client reusing one) and one that begins after the end; a request the
// client cancels ends while the session goes on.
func TestCloseCancelsRequests(t *testing.T) {
	s := mcp.NewServer(mcp.Implementation{Name: "close", Version: "0"}, nil)
	defer s.Close()
	started := make(chan struct{}, 8)
	s.AddTool(&mcp.Tool{Name: "wait", InputSchema: json.RawMessage(`{"type":"object"}`)}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	_, conn, jerr := s.Initialize(json.RawMessage(`{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}`))
	if jerr != nil {
		t.Fatal(jerr)
	}
	conn.State().MarkInitialized()
	call := func(id string) <-chan *jsonrpc.Error {
		ch := make(chan *jsonrpc.Error, 1)
		go func() { // owner: the test; exit: the tool returns when its context ends
			_, jerr := conn.Handle(&mcp.Call{Session: conn.State(), Method: mcp.MethodToolsCall, ID: json.RawMessage(id), Params: json.RawMessage(`{"name":"wait"}`)})
			ch <- jerr
		}()
		return ch
	}
	cancelled := call(`9`)
	<-started
	conn.Notify(mcp.NotificationCancelled, json.RawMessage(`{"requestId":9}`))
	if jerr := <-cancelled; !errors.Is(jerr, mcp.ErrNoResponse) {
		t.Fatalf("cancelled by the client: %v, want ErrNoResponse", jerr)
	}
	a, b, c := call(`1`), call(`1`), call(`2`)
	for range 3 {
		<-started
	}
	conn.Close()
	for _, ch := range []<-chan *jsonrpc.Error{a, b, c, call(`3`)} {
		<-ch // the tool returned: its context ended
	}
}
