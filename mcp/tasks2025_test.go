package mcp_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// wireTask is a Task at 2025-11-25 (basic/utilities/tasks §Task).
type wireTask struct {
	TaskID        string `json:"taskId"`
	Status        string `json:"status"`
	CreatedAt     string `json:"createdAt"`
	LastUpdatedAt string `json:"lastUpdatedAt"`
	TTL           *int64 `json:"ttl"`
	PollInterval  int64  `json:"pollInterval"`
}

// tasks2025Server serves task-capable tools: work (runs until
// cancelled), quick, broken, ask (required; elicits) and plain (no task
// support).
func tasks2025Server(t *testing.T) *env {
	return start(t, &mcp.ServerOptions{Tasks: &mcp.TaskOptions{TTL: time.Minute, PollInterval: 50 * time.Millisecond}}, func(s *mcp.Server) {
		task := func(name, support string, h mcp.ToolHandler) {
			s.AddTool(&mcp.Tool{Name: name, InputSchema: objectSchema, Execution: &mcp.ToolExecution{TaskSupport: support}}, h)
		}
		task("work", mcp.TaskSupportOptional, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if !req.RunAsTask() {
				return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("sync")}}, nil
			}
			<-ctx.Done()
			return nil, ctx.Err()
		})
		task("quick", mcp.TaskSupportOptional, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			req.RunAsTask()
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("quick done")}}, nil
		})
		task("broken", mcp.TaskSupportOptional, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "broken on purpose")
		})
		task("ask", mcp.TaskSupportRequired, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			res, err := req.Elicit(ctx, &mcp.ElicitParams{Message: "ok?", RequestedSchema: json.RawMessage(`{"type":"object"}`)})
			if err != nil {
				return nil, err
			}
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("answer " + res.Action)}}, nil
		})
		s.AddTool(&mcp.Tool{Name: "plain", InputSchema: objectSchema}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("plain")}}, nil
		})
	})
}

// request sends a request in the session and reads the whole answer.
func (s *session) request(method string, params any) *reply {
	s.e.t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": s.e.id(), "method": method, "params": params})
	return s.post(string(body))
}

// createTask calls tool as a task and returns the CreateTaskResult's task.
func (s *session) createTask(t *testing.T, tool string, ttl int64) wireTask {
	t.Helper()
	var res struct {
		Task wireTask `json:"task"`
	}
	s.request("tools/call", map[string]any{"name": tool, "task": map[string]any{"ttl": ttl}}).result(t, &res)
	tk := res.Task
	if tk.TaskID == "" || tk.Status != mcp.TaskWorking || tk.CreatedAt == "" || tk.LastUpdatedAt == "" || tk.TTL == nil || *tk.TTL != ttl || tk.PollInterval != 50 {
		t.Fatalf("%s: not a CreateTaskResult: %+v", tool, res)
	}
	return tk
}

func (s *session) waitTask(t *testing.T, id, status string) wireTask {
	t.Helper()
	var got wireTask
	testutil.WaitFor(t, 5*time.Second, func() error {
		got = wireTask{}
		s.request("tasks/get", map[string]any{"taskId": id}).result(t, &got)
		if got.Status != status {
			return fmt.Errorf("task %s is %q, want %q", id, got.Status, status)
		}
		return nil
	})
	return got
}

// waitStatus reads the GET stream until notifications/tasks/status says
// task id is status.
func waitStatus(t *testing.T, g <-chan *msg, id, status string) {
	t.Helper()
	for {
		m := next(t, g)
		if m.Method != mcp.NotificationTasksStatus {
			continue
		}
		var tk wireTask
		if err := json.Unmarshal(m.Params, &tk); err != nil {
			t.Fatal(err)
		}
		if tk.TaskID == id && tk.Status == status {
			if tk.CreatedAt == "" || tk.TTL == nil {
				t.Errorf("status notification without the Task: %s", m.Params)
			}
			return
		}
	}
}

// TestTasks2025 checks the experimental tasks of 2025-11-25 sessions
// (basic/utilities/tasks): the capability, task-augmented tools/call,
// tasks/get, tasks/result, tasks/list, tasks/cancel, status
// notifications, input on the GET stream, tool-level negotiation, the
// TTL, and that tasks belong to their session.
func TestTasks2025(t *testing.T) {
	e := tasks2025Server(t)
	s := e.initialize(mcp.Version20251125, `{"elicitation":{}}`)
	g, closeG := s.get()
	defer closeG()

	t.Run("capability", func(t *testing.T) {
		for _, v := range []string{mcp.Version20251125, mcp.Version20250618, mcp.Version20250326} {
			r := e.do(nil, []byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"`+v+`","capabilities":{}}}`))
			var res struct {
				Capabilities struct {
					Tasks json.RawMessage `json:"tasks"`
				} `json:"capabilities"`
			}
			r.result(t, &res)
			want := ""
			if v == mcp.Version20251125 {
				want = `{"list":{},"cancel":{},"requests":{"tools":{"call":{}}}}`
			}
			if string(res.Capabilities.Tasks) != want {
				t.Errorf("%s: tasks capability %s, want %q", v, res.Capabilities.Tasks, want)
			}
		}
	})

	t.Run("completed", func(t *testing.T) {
		id := s.createTask(t, "quick", 60000).TaskID
		waitStatus(t, g, id, mcp.TaskCompleted)
		s.waitTask(t, id, mcp.TaskCompleted)
		var res struct {
			Content []mcp.Content `json:"content"`
			Meta    map[string]struct {
				TaskID string `json:"taskId"`
			} `json:"_meta"`
		}
		r := s.request("tasks/result", map[string]any{"taskId": id})
		r.result(t, &res)
		if textOf(t, r.final(t).Result) != "quick done" || res.Meta[mcp.MetaRelatedTask].TaskID != id {
			t.Errorf("tasks/result: %s", r.final(t).Result)
		}
	})

	t.Run("failed", func(t *testing.T) {
		id := s.createTask(t, "broken", 60000).TaskID
		r := s.request("tasks/result", map[string]any{"taskId": id}) // waits for the outcome
		if m := r.final(t); m.Error == nil || m.Error.Message != "broken on purpose" {
			t.Errorf("tasks/result: %+v", m)
		}
		waitStatus(t, g, id, mcp.TaskFailed)
	})

	t.Run("cancel", func(t *testing.T) {
		id := s.createTask(t, "work", 60000).TaskID
		var list struct {
			Tasks []wireTask `json:"tasks"`
		}
		s.request("tasks/list", map[string]any{}).result(t, &list)
		found := false
		for _, tk := range list.Tasks {
			found = found || (tk.TaskID == id && tk.Status == mcp.TaskWorking)
		}
		if !found {
			t.Errorf("tasks/list: %+v, want %s working", list, id)
		}
		var got wireTask
		s.request("tasks/cancel", map[string]any{"taskId": id}).result(t, &got)
		if got.TaskID != id || got.Status != mcp.TaskCancelled {
			t.Errorf("tasks/cancel: %+v", got)
		}
		waitStatus(t, g, id, mcp.TaskCancelled)
		if c := s.request("tasks/cancel", map[string]any{"taskId": id}).errCode(t); c != jsonrpc.CodeInvalidParams {
			t.Errorf("tasks/cancel of a cancelled task: %d", c)
		}
		if c := s.request("tasks/result", map[string]any{"taskId": id}).errCode(t); c != jsonrpc.CodeInternalError {
			t.Errorf("tasks/result of a cancelled task: %d", c)
		}
		s.waitTask(t, id, mcp.TaskCancelled)
	})

	t.Run("input", func(t *testing.T) {
		id := s.createTask(t, "ask", 60000).TaskID
		var req *msg
		for req == nil {
			if m := next(t, g); m.isRequest() && m.Method == "elicitation/create" {
				req = m
			}
		}
		s.waitTask(t, id, mcp.TaskInputRequired)
		if r := s.post(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":{"action":"decline"}}`); r.status != http.StatusAccepted {
			t.Fatalf("answer: status %d", r.status)
		}
		r := s.request("tasks/result", map[string]any{"taskId": id})
		if got := textOf(t, r.final(t).Result); got != "answer decline" {
			t.Errorf("tasks/result: %s", got)
		}
	})

	t.Run("negotiation", func(t *testing.T) {
		if c := s.request("tools/call", map[string]any{"name": "ask"}).errCode(t); c != jsonrpc.CodeMethodNotFound {
			t.Errorf("required tool without a task: %d", c)
		}
		if c := s.request("tools/call", map[string]any{"name": "plain", "task": map[string]any{}}).errCode(t); c != jsonrpc.CodeMethodNotFound {
			t.Errorf("task of a tool without task support: %d", c)
		}
		if got := textOf(t, s.request("tools/call", map[string]any{"name": "work"}).final(t).Result); got != "sync" {
			t.Errorf("optional tool without a task: %s", got)
		}
		if c := s.request("tasks/get", map[string]any{"taskId": "nope"}).errCode(t); c != jsonrpc.CodeInvalidParams {
			t.Errorf("unknown task: %d", c)
		}
		if c := s.request("tasks/update", map[string]any{"taskId": "nope"}).errCode(t); c != jsonrpc.CodeMethodNotFound {
			t.Errorf("tasks/update in a session: %d", c)
		}
	})

	t.Run("ttl", func(t *testing.T) {
		id := s.createTask(t, "work", 100).TaskID
		if c := s.request("tasks/result", map[string]any{"taskId": id}).errCode(t); c != jsonrpc.CodeInvalidParams {
			t.Errorf("tasks/result past the ttl: %d", c)
		}
		waitStatus(t, g, id, mcp.TaskCancelled)
		if c := s.request("tasks/get", map[string]any{"taskId": id}).errCode(t); c != jsonrpc.CodeInvalidParams {
			t.Errorf("tasks/get past the ttl: %d", c)
		}
	})

	t.Run("sessions", func(t *testing.T) {
		id := s.createTask(t, "work", 60000).TaskID
		other := e.initialize(mcp.Version20251125, `{}`)
		for _, m := range []string{"tasks/get", "tasks/result", "tasks/cancel"} {
			if c := other.request(m, map[string]any{"taskId": id}).errCode(t); c != jsonrpc.CodeInvalidParams {
				t.Errorf("%s of another session's task: %d", m, c)
			}
		}
		var list struct {
			Tasks []wireTask `json:"tasks"`
		}
		other.request("tasks/list", nil).result(t, &list)
		if len(list.Tasks) != 0 {
			t.Errorf("another session's tasks/list: %+v", list)
		}
		if c := e.modern("tasks/get", map[string]any{"taskId": id}, tasksCaps, nil).errCode(t); c != jsonrpc.CodeInvalidParams {
			t.Errorf("2026-07-28 tasks/get of a session's task: %d", c)
		}
		s.waitTask(t, id, mcp.TaskWorking) // still there for its own session

		// A 2026-07-28 task is not a session's.
		var env taskEnvelope
		e.modern("tools/call", map[string]any{"name": "quick"}, tasksCaps, nil).result(t, &env)
		if env.ResultType != "task" {
			t.Fatalf("2026-07-28 CreateTaskResult: %+v", env)
		}
		{
			if c := s.request("tasks/get", map[string]any{"taskId": env.TaskID}).errCode(t); c != jsonrpc.CodeInvalidParams {
				t.Errorf("session tasks/get of a 2026-07-28 task: %d", c)
			}
		}
	})

	t.Run("older", func(t *testing.T) {
		old := e.initialize(mcp.Version20250618, `{}`)
		r := old.request("tools/call", map[string]any{"name": "quick", "task": map[string]any{"ttl": 1000}})
		if got := textOf(t, r.final(t).Result); got != "quick done" {
			t.Errorf("2025-06-18 tools/call with a task: %s", got)
		}
		for _, m := range []string{"tasks/get", "tasks/result", "tasks/list", "tasks/cancel"} {
			if c := old.request(m, map[string]any{"taskId": "x"}).errCode(t); c != jsonrpc.CodeMethodNotFound {
				t.Errorf("2025-06-18 %s: %d", m, c)
			}
		}
	})
}

// TestTasks2025List checks the pages of tasks/list (2025-11-25
// basic/utilities/tasks §Listing Tasks, server/utilities/pagination):
// creation order across pages, a task created between two pages listed on
// a later one, and invalid cursors, another list's among them.
func TestTasks2025List(t *testing.T) {
	e := start(t, &mcp.ServerOptions{PageSize: 2, Tasks: &mcp.TaskOptions{TTL: time.Minute, PollInterval: 50 * time.Millisecond}}, func(s *mcp.Server) {
		for _, name := range []string{"a", "b", "quick"} {
			s.AddTool(&mcp.Tool{Name: name, InputSchema: objectSchema, Execution: &mcp.ToolExecution{TaskSupport: mcp.TaskSupportOptional}},
				func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
					req.RunAsTask()
					return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("done")}}, nil
				})
		}
	})
	s := e.initialize(mcp.Version20251125, `{"tasks":{}}`)
	var want []string
	for range 4 {
		want = append(want, s.createTask(t, "quick", 60000).TaskID)
	}
	type page struct {
		Tasks      []wireTask `json:"tasks"`
		NextCursor string     `json:"nextCursor"`
	}
	list := func(cursor string) page {
		t.Helper()
		var p page
		params := map[string]any{}
		if cursor != "" {
			params["cursor"] = cursor
		}
		s.request("tasks/list", params).result(t, &p)
		return p
	}
	var got []string
	p := list("")
	for i := 0; ; i++ {
		if len(p.Tasks) > 2 {
			t.Fatalf("page %d has %d tasks, want at most 2", i, len(p.Tasks))
		}
		for _, tk := range p.Tasks {
			got = append(got, tk.TaskID)
		}
		if i == 0 {
			// Created after the first page: its key is after the
			// cursor's, so a later page lists it.
			want = append(want, s.createTask(t, "quick", 60000).TaskID)
		}
		if p.NextCursor == "" {
			break
		}
		p = list(p.NextCursor)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tasks/list pages = %v, want %v", got, want)
	}

	var tools struct {
		NextCursor string `json:"nextCursor"`
	}
	s.request("tools/list", map[string]any{}).result(t, &tools)
	if tools.NextCursor == "" {
		t.Fatal("tools/list of 3 tools with PageSize 2 has no nextCursor")
	}
	for _, cursor := range []any{"not a cursor!", tools.NextCursor, 7} {
		if c := s.request("tasks/list", map[string]any{"cursor": cursor}).errCode(t); c != jsonrpc.CodeInvalidParams {
			t.Errorf("tasks/list with cursor %v: code %d, want %d", cursor, c, jsonrpc.CodeInvalidParams)
		}
	}
}
