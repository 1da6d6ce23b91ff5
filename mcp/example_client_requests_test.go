package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// A tool that asks the user for input while it runs. Request.Elicit sends
// elicitation/create on the request's stream and waits for the client's
// answer, which the transport hands to Conn.Deliver. Here the Call's Out
// plays the client: it prints the request and answers it.
func ExampleRequest_Elicit() {
	srv := mcp.NewServer(mcp.Implementation{Name: "booking", Version: "1"}, nil)
	srv.AddTool(&mcp.Tool{Name: "book", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			res, err := req.Elicit(ctx, &mcp.ElicitParams{
				Message:         "How many seats?",
				RequestedSchema: json.RawMessage(`{"type":"object","properties":{"seats":{"type":"integer"}},"required":["seats"]}`),
			})
			if err != nil {
				return nil, err
			}
			if res.Action != "accept" {
				return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("booking " + res.Action + "d")}}, nil
			}
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(fmt.Sprintf("booked %v seats", res.Content["seats"]))}}, nil
		})

	// The client must declare elicitation; otherwise Elicit fails without
	// sending anything.
	conn := connect(srv, `{"elicitation":{}}`)
	defer conn.Close()
	client := outFunc(func(msg []byte) error {
		msgs, _, jerr := jsonrpc.Decode(msg)
		if jerr != nil {
			return jerr
		}
		m := msgs[0]
		fmt.Printf("client gets %s %s\n", m.Method, m.Params)
		go conn.Deliver(&jsonrpc.Message{Kind: jsonrpc.KindResponse, ID: m.ID,
			Result: json.RawMessage(`{"action":"accept","content":{"seats":2}}`)})
		return nil
	})
	res, jerr := conn.Handle(&mcp.Call{
		Session: conn.State(),
		Method:  "tools/call",
		ID:      json.RawMessage(`1`),
		Params:  json.RawMessage(`{"name":"book"}`),
		Out:     client,
	})
	if jerr != nil {
		log.Fatal(jerr)
	}
	fmt.Printf("result %s\n", res)
	// Output:
	// client gets elicitation/create {"message":"How many seats?","requestedSchema":{"type":"object","properties":{"seats":{"type":"integer"}},"required":["seats"]}}
	// result {"content":[{"type":"text","text":"booked 2 seats"}]}
}

// A tool that samples the client's language model with
// sampling/createMessage, as in the Request.Elicit example.
func ExampleRequest_CreateMessage() {
	srv := mcp.NewServer(mcp.Implementation{Name: "summarizer", Version: "1"}, nil)
	srv.AddTool(&mcp.Tool{Name: "summarize", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			res, err := req.CreateMessage(ctx, &mcp.CreateMessageParams{
				Messages:  []*mcp.SamplingMessage{{Role: "user", Content: mcp.TextContent("Summarize: the cat sat on the mat.")}},
				MaxTokens: 50,
			})
			if err != nil {
				return nil, err
			}
			return &mcp.CallToolResult{Content: []mcp.Content{res.Content}}, nil
		})

	conn := connect(srv, `{"sampling":{}}`)
	defer conn.Close()
	client := outFunc(func(msg []byte) error {
		msgs, _, jerr := jsonrpc.Decode(msg)
		if jerr != nil {
			return jerr
		}
		m := msgs[0]
		fmt.Printf("client gets %s %s\n", m.Method, m.Params)
		go conn.Deliver(&jsonrpc.Message{Kind: jsonrpc.KindResponse, ID: m.ID,
			Result: json.RawMessage(`{"role":"assistant","content":{"type":"text","text":"A cat sat."},"model":"example-model"}`)})
		return nil
	})
	res, jerr := conn.Handle(&mcp.Call{
		Session: conn.State(),
		Method:  "tools/call",
		ID:      json.RawMessage(`1`),
		Params:  json.RawMessage(`{"name":"summarize"}`),
		Out:     client,
	})
	if jerr != nil {
		log.Fatal(jerr)
	}
	fmt.Printf("result %s\n", res)
	// Output:
	// client gets sampling/createMessage {"messages":[{"role":"user","content":{"type":"text","text":"Summarize: the cat sat on the mat."}}],"maxTokens":50}
	// result {"content":[{"type":"text","text":"A cat sat."}]}
}
