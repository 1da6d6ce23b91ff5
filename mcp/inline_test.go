package mcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

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
		{mcp.MethodToolsCall, `{"name":"fast"`, false},
		{mcp.MethodToolsCall, `{"name":"fast","name":"slow"}`, false},
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
