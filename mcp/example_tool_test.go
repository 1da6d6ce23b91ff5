package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// A tool with a hand-written input schema. The server validates the
// arguments against it before the handler runs: arguments that do not
// match go back as a tool result with isError set, naming what failed, so
// that the model can correct its call (2025-11-25 server/tools §Error
// Handling). The handler decodes its arguments itself; mcp.AddTool does
// that too, with a schema inferred from a Go type.
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
		return mcp.TextResult("Hello, " + args.Name + "!"), nil
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
	// {"content":[{"type":"text","text":"invalid arguments for tool greet: at arguments: required: missing properties: [\"name\"] (schema root)"}],"isError":true}
}
