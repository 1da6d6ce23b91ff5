package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// A tool that reports progress. The client asks for it with a
// progressToken in the request's _meta; Request.Progress sends
// notifications/progress with that token on the request's own stream (the
// Call's Out), before the result. Without a token it sends nothing.
func ExampleRequest_Progress() {
	srv := mcp.NewServer(mcp.Implementation{Name: "worker", Version: "1"}, nil)
	srv.AddTool(&mcp.Tool{Name: "count", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			for i := 1; i <= 3; i++ {
				if err := req.Progress(float64(i), 3, fmt.Sprintf("step %d of 3", i)); err != nil {
					return nil, err
				}
			}
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("counted to 3")}}, nil
		})

	conn := connect(srv, `{}`)
	defer conn.Close()
	res, jerr := conn.Handle(&mcp.Call{
		Session: conn.State(),
		Method:  "tools/call",
		ID:      json.RawMessage(`1`),
		Params:  json.RawMessage(`{"name":"count","_meta":{"progressToken":"tok-1"}}`),
		Out:     printOut,
	})
	if jerr != nil {
		log.Fatal(jerr)
	}
	fmt.Printf("result %s\n", res)
	// Output:
	// server sends {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"tok-1","progress":1,"total":3,"message":"step 1 of 3"}}
	// server sends {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"tok-1","progress":2,"total":3,"message":"step 2 of 3"}}
	// server sends {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"tok-1","progress":3,"total":3,"message":"step 3 of 3"}}
	// result {"content":[{"type":"text","text":"counted to 3"}]}
}
