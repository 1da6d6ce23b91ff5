package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// Tasks (the 2026-07-28 tasks extension): a tool that declares task
// support and asks the user for input runs as a task for a client that
// declared the extension. tools/call answers at once with a
// CreateTaskResult; the client polls tasks/get, answers the task's input
// requests with tasks/update, and finds the result inlined in tasks/get
// once the task completed.
func ExampleTaskOptions() {
	srv := mcp.NewServer(mcp.Implementation{Name: "reports", Version: "1"}, &mcp.ServerOptions{
		Tasks: &mcp.TaskOptions{PollInterval: 10 * time.Millisecond},
	})
	defer srv.Close()
	srv.AddTool(&mcp.Tool{
		Name:        "report",
		InputSchema: json.RawMessage(`{"type":"object"}`),
		Execution:   &mcp.ToolExecution{TaskSupport: mcp.TaskSupportOptional},
	}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		// Asking the client turns the call into a task; so does
		// req.RunAsTask, or running longer than TaskOptions.SyncWindow.
		res, err := req.Elicit(ctx, &mcp.ElicitParams{
			Message:         "Which quarter?",
			RequestedSchema: json.RawMessage(`{"type":"object","properties":{"quarter":{"type":"string"}}}`),
		})
		if err != nil {
			return nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(fmt.Sprintf("report for %v", res.Content["quarter"]))}}, nil
	})

	// call sends a stateless request as the transport hands it over, from
	// a client that declared elicitation and the tasks extension.
	call := func(method, name string, params map[string]any) []byte {
		params["_meta"] = map[string]any{
			mcp.MetaProtocolVersion: mcp.Version20260728,
			mcp.MetaClientCapabilities: map[string]any{
				"elicitation": map[string]any{},
				"extensions":  map[string]any{mcp.TasksExtension: map[string]any{}},
			},
		}
		p, _ := json.Marshal(params)
		res, jerr := srv.HandleStateless(&mcp.StatelessCall{
			Method:  method,
			ID:      json.RawMessage(`1`),
			Params:  p,
			Headers: map[string]string{"mcp-protocol-version": mcp.Version20260728, "mcp-method": method, "mcp-name": name},
			Out:     printOut,
			Context: context.Background(),
		})
		if jerr != nil {
			log.Fatal(jerr)
		}
		return res
	}
	type task struct {
		ResultType    string                     `json:"resultType"`
		TaskID        string                     `json:"taskId"`
		Status        string                     `json:"status"`
		InputRequests map[string]json.RawMessage `json:"inputRequests"`
		Result        json.RawMessage            `json:"result"`
	}
	// poll calls tasks/get until the task has the status.
	poll := func(id, status string) task {
		for {
			var t task
			if err := json.Unmarshal(call("tasks/get", id, map[string]any{"taskId": id}), &t); err != nil {
				log.Fatal(err)
			}
			if t.Status == status {
				return t
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	var created task
	if err := json.Unmarshal(call("tools/call", "report", map[string]any{"name": "report"}), &created); err != nil {
		log.Fatal(err)
	}
	fmt.Println("tools/call:", created.ResultType)

	t := poll(created.TaskID, mcp.TaskInputRequired)
	for key, req := range t.InputRequests { // one
		fmt.Printf("tasks/get: %s, %s: %s\n", t.Status, key, req)
		call("tasks/update", created.TaskID, map[string]any{
			"taskId":         created.TaskID,
			"inputResponses": map[string]any{key: map[string]any{"action": "accept", "content": map[string]any{"quarter": "Q3"}}},
		})
	}

	t = poll(created.TaskID, mcp.TaskCompleted)
	fmt.Printf("tasks/get: %s, result %s\n", t.Status, t.Result)
	// Output:
	// tools/call: task
	// tasks/get: input_required, input-1: {"method":"elicitation/create","params":{"message":"Which quarter?","requestedSchema":{"type":"object","properties":{"quarter":{"type":"string"}}}}}
	// tasks/get: completed, result {"content":[{"type":"text","text":"report for Q3"}],"resultType":"complete","_meta":{"io.modelcontextprotocol/serverInfo":{"name":"reports","version":"1"}}}
}

// RunAsTask turns a call into a task at once, when the client and the tool
// allow it; otherwise it reports false and the handler answers as usual:
// here a 2025 session gets its result synchronously, and a 2026-07-28
// client with the tasks extension gets a task to poll.
func ExampleCallToolRequest_RunAsTask() {
	srv := mcp.NewServer(mcp.Implementation{Name: "jobs", Version: "1"}, &mcp.ServerOptions{Tasks: &mcp.TaskOptions{}})
	defer srv.Close()
	release := make(chan struct{})
	srv.AddTool(&mcp.Tool{
		Name:        "rebuild",
		InputSchema: json.RawMessage(`{"type":"object"}`),
		Execution:   &mcp.ToolExecution{TaskSupport: mcp.TaskSupportOptional},
	}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if req.RunAsTask() {
			select { // the long job, in the background
			case <-release:
			case <-ctx.Done(): // tasks/cancel, or the task's TTL
				return nil, ctx.Err()
			}
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("rebuilt as a task")}}, nil
		}
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("rebuilt synchronously")}}, nil
	})

	conn := connect(srv, `{}`)
	defer conn.Close()
	res, jerr := conn.Handle(&mcp.Call{
		Session: conn.State(),
		Method:  "tools/call",
		ID:      json.RawMessage(`1`),
		Params:  json.RawMessage(`{"name":"rebuild"}`),
	})
	if jerr != nil {
		log.Fatal(jerr)
	}
	fmt.Printf("2025-11-25 tools/call: %s\n", res)

	call := func(method, name string, params map[string]any) []byte {
		params["_meta"] = map[string]any{
			mcp.MetaProtocolVersion:    mcp.Version20260728,
			mcp.MetaClientCapabilities: map[string]any{"extensions": map[string]any{mcp.TasksExtension: map[string]any{}}},
		}
		p, _ := json.Marshal(params)
		res, jerr := srv.HandleStateless(&mcp.StatelessCall{
			Method:  method,
			ID:      json.RawMessage(`1`),
			Params:  p,
			Headers: map[string]string{"mcp-protocol-version": mcp.Version20260728, "mcp-method": method, "mcp-name": name},
			Out:     printOut,
			Context: context.Background(),
		})
		if jerr != nil {
			log.Fatal(jerr)
		}
		return res
	}
	var t struct {
		ResultType string          `json:"resultType"`
		TaskID     string          `json:"taskId"`
		Status     string          `json:"status"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(call("tools/call", "rebuild", map[string]any{"name": "rebuild"}), &t); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("2026-07-28 tools/call: %s, %s\n", t.ResultType, t.Status)

	close(release)
	for t.Status != mcp.TaskCompleted {
		time.Sleep(10 * time.Millisecond)
		if err := json.Unmarshal(call("tasks/get", t.TaskID, map[string]any{"taskId": t.TaskID}), &t); err != nil {
			log.Fatal(err)
		}
	}
	var result mcp.CallToolResult
	if err := json.Unmarshal(t.Result, &result); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("tasks/get: %s, %s\n", t.Status, result.Content[0].Text)
	// Output:
	// 2025-11-25 tools/call: {"content":[{"type":"text","text":"rebuilt synchronously"}]}
	// 2026-07-28 tools/call: task, working
	// tasks/get: completed, rebuilt as a task
}
