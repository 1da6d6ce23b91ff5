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

// A typed prompt: its arguments list is inferred from the struct (names
// from json tags, descriptions from jsonschema tags, required unless
// omitempty), and prompts/get decodes the arguments into it.
func ExampleAddPrompt() {
	type ReviewArgs struct {
		Code     string `json:"code" jsonschema:"the code to review"`
		Language string `json:"language,omitempty" jsonschema:"its language"`
	}
	srv := mcp.NewServer(mcp.Implementation{Name: "prompts", Version: "1"}, nil)
	mcp.AddPrompt(srv, &mcp.Prompt{Name: "review", Description: "Review a piece of code."},
		func(_ context.Context, _ *mcp.GetPromptRequest, in ReviewArgs) (*mcp.GetPromptResult, error) {
			lang := in.Language
			if lang == "" {
				lang = "this"
			}
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{
				{Role: "user", Content: mcp.TextContent("Please review " + lang + " code: " + in.Code)},
			}}, nil
		})

	conn := connect(srv, `{}`)
	defer conn.Close()
	for i, c := range []struct{ method, params string }{
		{"prompts/list", `{}`},
		{"prompts/get", `{"name":"review","arguments":{"code":"x := 1","language":"Go"}}`},
		{"prompts/get", `{"name":"review","arguments":{"code":"x := 1","Language":"Go"}}`},
	} {
		res, jerr := conn.Handle(&mcp.Call{
			Session: conn.State(),
			Method:  c.method,
			ID:      json.RawMessage(fmt.Sprint(i + 1)),
			Params:  json.RawMessage(c.params),
		})
		if jerr != nil {
			fmt.Println("error", jerr.Code, jerr.Message)
			continue
		}
		fmt.Printf("%s\n", res)
	}
	// Output:
	// {"prompts":[{"name":"review","description":"Review a piece of code.","arguments":[{"name":"code","description":"the code to review","required":true},{"name":"language","description":"its language"}]}]}
	// {"messages":[{"role":"user","content":{"type":"text","text":"Please review Go code: x := 1"}}]}
	// error -32602 Invalid params: prompt "review" has no argument "Language"
}
