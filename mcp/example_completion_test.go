package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// A completion handler, set in ServerOptions: it suggests values for a
// prompt's (or a resource template's) arguments as the user types. The
// server declares the completions capability only when one is set.
func ExampleCompletionHandler() {
	languages := []string{"go", "gleam", "haskell", "python"}
	srv := mcp.NewServer(mcp.Implementation{Name: "prompts", Version: "1"}, &mcp.ServerOptions{
		CompletionHandler: func(_ context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
			res := &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: []string{}}}
			if req.Params.Ref.Type != "ref/prompt" || req.Params.Argument.Name != "language" {
				return res, nil
			}
			for _, l := range languages {
				if strings.HasPrefix(l, req.Params.Argument.Value) {
					res.Completion.Values = append(res.Completion.Values, l)
				}
			}
			res.Completion.Total = len(res.Completion.Values)
			return res, nil
		},
	})
	srv.AddPrompt(&mcp.Prompt{Name: "review", Arguments: []*mcp.PromptArgument{{Name: "language"}}},
		func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{}, nil
		})

	conn := connect(srv, `{}`)
	defer conn.Close()
	res, jerr := conn.Handle(&mcp.Call{
		Session: conn.State(),
		Method:  "completion/complete",
		ID:      json.RawMessage(`1`),
		Params:  json.RawMessage(`{"ref":{"type":"ref/prompt","name":"review"},"argument":{"name":"language","value":"g"}}`),
	})
	if jerr != nil {
		log.Fatal(jerr)
	}
	fmt.Printf("%s\n", res)
	// Output:
	// {"completion":{"values":["go","gleam"],"total":2}}
}
