package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// A tool that logs to the client. Request.Log sends notifications/message
// on the request's stream when the level passes the client's
// logging/setLevel filter; here the client asked for warning and above, so
// the info message is dropped.
func ExampleRequest_Log() {
	srv := mcp.NewServer(mcp.Implementation{Name: "worker", Version: "1"}, nil)
	srv.AddTool(&mcp.Tool{Name: "fetch", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			_ = req.Log(mcp.LevelInfo, "fetch", "starting")
			_ = req.Log(mcp.LevelWarning, "fetch", map[string]any{"retry": 1, "reason": "timeout"})
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("fetched")}}, nil
		})

	conn := connect(srv, `{}`)
	defer conn.Close()
	if _, jerr := conn.Handle(&mcp.Call{
		Session: conn.State(),
		Method:  "logging/setLevel",
		ID:      json.RawMessage(`1`),
		Params:  json.RawMessage(`{"level":"warning"}`),
	}); jerr != nil {
		log.Fatal(jerr)
	}
	res, jerr := conn.Handle(&mcp.Call{
		Session: conn.State(),
		Method:  "tools/call",
		ID:      json.RawMessage(`2`),
		Params:  json.RawMessage(`{"name":"fetch"}`),
		Out:     printOut,
	})
	if jerr != nil {
		log.Fatal(jerr)
	}
	fmt.Printf("result %s\n", res)
	// Output:
	// server sends {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"warning","logger":"fetch","data":{"reason":"timeout","retry":1}}}
	// result {"content":[{"type":"text","text":"fetched"}]}
}
