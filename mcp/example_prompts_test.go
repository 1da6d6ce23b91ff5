package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// A prompt with an argument, fetched with prompts/get.
func ExampleServer_AddPrompt() {
	srv := mcp.NewServer(mcp.Implementation{Name: "prompts", Version: "1"}, nil)
	srv.AddPrompt(&mcp.Prompt{
		Name:        "review",
		Description: "Review a piece of code.",
		Arguments:   []*mcp.PromptArgument{{Name: "language", Required: true}},
	}, func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		lang := req.Params.Arguments["language"]
		return &mcp.GetPromptResult{
			Description: "Code review",
			Messages: []*mcp.PromptMessage{
				{Role: "user", Content: mcp.TextContent("Please review this " + lang + " code.")},
			},
		}, nil
	})

	conn := connect(srv, `{}`)
	defer conn.Close()
	res, jerr := conn.Handle(&mcp.Call{
		Session: conn.State(),
		Method:  "prompts/get",
		ID:      json.RawMessage(`1`),
		Params:  json.RawMessage(`{"name":"review","arguments":{"language":"Go"}}`),
	})
	if jerr != nil {
		log.Fatal(jerr)
	}
	fmt.Printf("%s\n", res)
	// Output:
	// {"description":"Code review","messages":[{"role":"user","content":{"type":"text","text":"Please review this Go code."}}]}
}
