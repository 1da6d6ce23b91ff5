package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// A tool with a hand-written input schema. The handler decodes and checks
// its arguments itself; an error about them goes back as a tool result
// with isError set, so that the model can correct its call.
func ExampleServer_AddTool() {
	srv := mcp.NewServer(mcp.Implementation{Name: "greeter", Version: "1"}, nil)
	srv.AddTool(&mcp.Tool{
		Name:        "greet",
		Description: "Says hello.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`),
	}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var args struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(req.Params.Arguments, &args); err != nil || args.Name == "" {
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("name is required")}, IsError: true}, nil
		}
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("Hello, " + args.Name + "!")}}, nil
	})

	conn := connect(srv, `{}`)
	defer conn.Close()
	for i, params := range []string{
		`{"name":"greet","arguments":{"name":"Ada"}}`,
		`{"name":"greet","arguments":{}}`,
	} {
		res, jerr := conn.Handle(&mcp.Call{
			Session: conn.State(),
			Method:  "tools/call",
			ID:      json.RawMessage(fmt.Sprint(i + 1)),
			Params:  json.RawMessage(params),
		})
		if jerr != nil {
			log.Fatal(jerr)
		}
		fmt.Printf("%s\n", res)
	}
	// Output:
	// {"content":[{"type":"text","text":"Hello, Ada!"}]}
	// {"content":[{"type":"text","text":"name is required"}],"isError":true}
}
