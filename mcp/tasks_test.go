package mcp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

var tasksCaps = map[string]any{"elicitation": map[string]any{}, "extensions": map[string]any{mcp.TasksExtension: map[string]any{}}}

func tasksServer(t *testing.T) *env {
	return start(t, &mcp.ServerOptions{Tasks: &mcp.TaskOptions{SyncWindow: time.Hour, PollInterval: 50 * time.Millisecond}}, func(s *mcp.Server) {
		task := func(name, support string, h mcp.ToolHandler) {
			s.AddTool(&mcp.Tool{Name: name, InputSchema: objectSchema, Execution: &mcp.ToolExecution{TaskSupport: support}}, h)
		}
		block := make(chan struct{})
		t.Cleanup(func() { close(block) })
		task("work", mcp.TaskSupportOptional, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if !req.RunAsTask() {
				return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("sync")}}, nil
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-block:
			}
			return nil, nil
		})
		task("quick", mcp.TaskSupportOptional, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			req.RunAsTask()
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("quick done")}}, nil
		})
		task("ask", mcp.TaskSupportRequired, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			res, err := req.Elicit(ctx, &mcp.ElicitParams{Message: "ok?", RequestedSchema: json.RawMessage(`{"type":"object"}`)})
			if err != nil {
				return nil, err
			}
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("answer " + res.Action)}}, nil
		})
		task("broken", mcp.TaskSupportOptional, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			req.RunAsTask()
			return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "broken on purpose")
		})
	})
}

type taskEnvelope struct {
	ResultType    string                      `json:"resultType"`
	TaskID        string                      `json:"taskId"`
	Status        string                      `json:"status"`
	CreatedAt     string                      `json:"createdAt"`
	TTLMs         int64                       `json:"ttlMs"`
	InputRequests map[string]mcp.InputRequest `json:"inputRequests"`
	Result        json.RawMessage             `json:"result"`
	Error         *jsonrpc.Error              `json:"error"`
}

func (e *env) taskGet(t *testing.T, id string) taskEnvelope {
	t.Helper()
	var env taskEnvelope
	e.modern("tasks/get", map[string]any{"taskId": id}, tasksCaps, nil).result(t, &env)
	return env
}

func (e *env) waitTask(t *testing.T, id string, status string) taskEnvelope {
	t.Helper()
	var got taskEnvelope
	testutil.WaitFor(t, 5*time.Second, func() error {
		if got = e.taskGet(t, id); got.Status != status {
			return fmt.Errorf("task %s is %q, want %q", id, got.Status, status)
		}
		return nil
	})
	return got
}

// TestTasks checks the tasks extension: CreateTaskResult, tasks/get with
// the inlined result or error, input requests answered with tasks/update,
// tasks/cancel, and the gating on the extension.
func TestTasks(t *testing.T) {
	e := tasksServer(t)
	create := func(tool string) taskEnvelope {
		t.Helper()
		var env taskEnvelope
		e.modern("tools/call", map[string]any{"name": tool}, tasksCaps, nil).result(t, &env)
		if env.ResultType != "task" || env.TaskID == "" || env.CreatedAt == "" || env.TTLMs <= 0 {
			t.Fatalf("%s: not a CreateTaskResult: %+v", tool, env)
		}
		return env
	}

	t.Run("completed", func(t *testing.T) {
		env := e.waitTask(t, create("quick").TaskID, mcp.TaskCompleted)
		if env.ResultType != "complete" || textOf(t, env.Result) != "quick done" {
			t.Errorf("tasks/get: %+v", env)
		}
	})
	t.Run("failed", func(t *testing.T) {
		env := e.waitTask(t, create("broken").TaskID, mcp.TaskFailed)
		if env.Error == nil || env.Error.Message != "broken on purpose" || env.Result != nil {
			t.Errorf("tasks/get: %+v", env)
		}
	})
	t.Run("input", func(t *testing.T) {
		id := create("ask").TaskID
		env := e.waitTask(t, id, mcp.TaskInputRequired)
		var key string
		for k, r := range env.InputRequests {
			if r.Method != "elicitation/create" {
				t.Fatalf("input request %+v", r)
			}
			key = k
		}
		var ack map[string]any
		e.modern("tasks/update", map[string]any{"taskId": id, "inputResponses": map[string]any{
			key: map[string]any{"action": "decline"}, "stray": map[string]any{}}}, tasksCaps, nil).result(t, &ack)
		if ack["resultType"] != "complete" || ack["taskId"] != nil {
			t.Errorf("tasks/update ack %v", ack)
		}
		if env := e.waitTask(t, id, mcp.TaskCompleted); textOf(t, env.Result) != "answer decline" {
			t.Errorf("result %s", env.Result)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		id := create("work").TaskID
		var ack map[string]any
		for range 2 { // the second time on a terminal task: the same ack
			e.modern("tasks/cancel", map[string]any{"taskId": id}, tasksCaps, nil).result(t, &ack)
			if ack["resultType"] != "complete" || ack["status"] != nil {
				t.Errorf("tasks/cancel ack %v", ack)
			}
		}
		e.waitTask(t, id, mcp.TaskCancelled)
	})
	t.Run("gating", func(t *testing.T) {
		// Without the extension: optional tools run synchronously,
		// required ones and tasks/* get -32021.
		r := e.modern("tools/call", map[string]any{"name": "work"}, nil, nil)
		if textOf(t, r.final(t).Result) != "sync" {
			t.Errorf("optional tool without the extension: %s", r.final(t).Result)
		}
		r = e.modern("tools/call", map[string]any{"name": "ask"}, map[string]any{"elicitation": map[string]any{}}, nil)
		if r.status != 400 || r.errCode(t) != mcp.CodeMissingRequiredClientCapability ||
			!strings.Contains(string(r.final(t).Error.Data), mcp.TasksExtension) {
			t.Errorf("required tool without the extension: %d %v", r.status, r.msgs)
		}
		for _, m := range []string{"tasks/get", "tasks/update", "tasks/cancel"} {
			if r := e.modern(m, map[string]any{"taskId": "x"}, nil, nil); r.errCode(t) != mcp.CodeMissingRequiredClientCapability {
				t.Errorf("%s without the extension: %d", m, r.errCode(t))
			}
		}
		for _, m := range []string{"tasks/result", "tasks/list"} {
			if r := e.modern(m, map[string]any{"taskId": "x"}, tasksCaps, nil); r.status != 404 {
				t.Errorf("%s: status %d, want 404", m, r.status)
			}
		}
		if r := e.modern("tasks/get", map[string]any{"taskId": "nope"}, tasksCaps, nil); r.errCode(t) != jsonrpc.CodeInvalidParams {
			t.Errorf("unknown task: %d", r.errCode(t))
		}
		if r := e.modern("tasks/get", map[string]any{"taskId": "nope"}, tasksCaps, map[string]string{"Mcp-Name": "other"}); r.errCode(t) != mcp.CodeHeaderMismatch {
			t.Errorf("Mcp-Name != taskId: %d", r.errCode(t))
		}
	})
}
