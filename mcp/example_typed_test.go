package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// A typed tool: its input and output schemas are inferred from the Go
// types, the arguments are validated and decoded (exact member names) into
// In before the handler runs, and Out becomes structuredContent, with a
// text copy for clients that read only content.
func ExampleAddTool() {
	type GreetIn struct {
		Name string `json:"name" jsonschema:"who to greet"`
	}
	type GreetOut struct {
		Greeting string `json:"greeting"`
	}
	srv := mcp.NewServer(mcp.Implementation{Name: "greeter", Version: "1"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "greet", Description: "Says hello."},
		func(_ context.Context, _ *mcp.CallToolRequest, in GreetIn) (*mcp.CallToolResult, GreetOut, error) {
			return nil, GreetOut{Greeting: "Hello, " + in.Name + "!"}, nil
		})

	conn := connect(srv, `{}`)
	defer conn.Close()
	for i, params := range []string{
		`{"name":"greet","arguments":{"name":"Ada"}}`,
		`{"name":"greet","arguments":{"name":7}}`,
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
	// {"content":[{"type":"text","text":"{\"greeting\":\"Hello, Ada!\"}"}],"structuredContent":{"greeting":"Hello, Ada!"}}
	// {"content":[{"type":"text","text":"invalid arguments for tool greet: at arguments/name: type: 7 has type \"integer\", want \"string\" (schema /properties/name)"}],"isError":true}
}
