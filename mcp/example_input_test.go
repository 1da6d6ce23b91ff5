package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// A handler that needs input from the client returns InputRequests, with
// RequestState to carry what it knows so far, and finds the answers in
// InputResponses when it is called again. It does not ask the client
// itself, so the same handler serves both eras:
//
// A 2026-07-28 client gets an InputRequiredResult (resultType
// "input_required") with the input requests and the handler's state,
// sealed with ServerOptions.StateKey. It answers in a new tools/call with
// inputResponses and the requestState as it received it; the handler sees
// the state unsealed.
//
// In a 2025 session the server sends each input request to the client
// itself, on the request's stream, and calls the handler again with the
// answers.
func ExampleInputRequests() {
	confirmDelete := func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		answer, ok := req.Params.InputResponses.Elicit("confirm")
		if !ok { // first round, or a malformed answer: ask (again)
			return &mcp.CallToolResult{
				InputRequests: mcp.InputRequests{"confirm": mcp.ElicitInput(&mcp.ElicitParams{
					Message:         "Delete report.pdf?",
					RequestedSchema: json.RawMessage(`{"type":"object","properties":{}}`),
				})},
				RequestState: "file=report.pdf",
			}, nil
		}
		text := "kept"
		if answer.Action == "accept" {
			text = "deleted"
		}
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(text + " (state " + req.Params.RequestState + ")")}}, nil
	}
	srv := mcp.NewServer(mcp.Implementation{Name: "files", Version: "1"}, nil)
	srv.AddTool(&mcp.Tool{Name: "delete", InputSchema: json.RawMessage(`{"type":"object"}`)}, confirmDelete)

	// 2026-07-28: call sends a stateless tools/call as the transport hands
	// it over, with the revision and client capabilities in _meta and the
	// MCP headers. The client accepts.
	call := func(params map[string]any) []byte {
		params["name"] = "delete"
		params["_meta"] = map[string]any{
			mcp.MetaProtocolVersion:    mcp.Version20260728,
			mcp.MetaClientCapabilities: map[string]any{"elicitation": map[string]any{}},
		}
		p, _ := json.Marshal(params)
		res, jerr := srv.HandleStateless(&mcp.StatelessCall{
			Method:  "tools/call",
			ID:      json.RawMessage(`1`),
			Params:  p,
			Headers: map[string]string{"mcp-protocol-version": mcp.Version20260728, "mcp-method": "tools/call", "mcp-name": "delete"},
			Out:     printOut,
			Context: context.Background(),
		})
		if jerr != nil {
			log.Fatal(jerr)
		}
		return res
	}

	var first struct {
		ResultType    string          `json:"resultType"`
		InputRequests json.RawMessage `json:"inputRequests"`
		RequestState  string          `json:"requestState"`
	}
	if err := json.Unmarshal(call(map[string]any{}), &first); err != nil {
		log.Fatal(err)
	}
	fmt.Println("resultType:", first.ResultType)
	fmt.Printf("inputRequests: %s\n", first.InputRequests)

	var second struct {
		ResultType string        `json:"resultType"`
		Content    []mcp.Content `json:"content"`
	}
	if err := json.Unmarshal(call(map[string]any{
		"inputResponses": map[string]any{"confirm": map[string]any{"action": "accept", "content": map[string]any{}}},
		"requestState":   first.RequestState,
	}), &second); err != nil {
		log.Fatal(err)
	}
	fmt.Println("resultType:", second.ResultType)
	fmt.Println(second.Content[0].Text)

	// 2025-11-25: the server asks, the client declines.
	conn := connect(srv, `{"elicitation":{}}`)
	defer conn.Close()
	client := outFunc(func(msg []byte) error {
		msgs, _, jerr := jsonrpc.Decode(msg)
		if jerr != nil {
			return jerr
		}
		m := msgs[0]
		fmt.Printf("client gets %s %s\n", m.Method, m.Params)
		go conn.Deliver(&jsonrpc.Message{Kind: jsonrpc.KindResponse, ID: m.ID, Result: json.RawMessage(`{"action":"decline"}`)})
		return nil
	})
	res, jerr := conn.Handle(&mcp.Call{
		Session: conn.State(),
		Method:  "tools/call",
		ID:      json.RawMessage(`1`),
		Params:  json.RawMessage(`{"name":"delete"}`),
		Out:     client,
	})
	if jerr != nil {
		log.Fatal(jerr)
	}
	fmt.Printf("result %s\n", res)
	// Output:
	// resultType: input_required
	// inputRequests: {"confirm":{"method":"elicitation/create","params":{"message":"Delete report.pdf?","requestedSchema":{"type":"object","properties":{}}}}}
	// resultType: complete
	// deleted (state file=report.pdf)
	// client gets elicitation/create {"message":"Delete report.pdf?","requestedSchema":{"type":"object","properties":{}}}
	// result {"content":[{"type":"text","text":"kept (state file=report.pdf)"}]}
}
