package mcp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// discardOut is the Outbound of a stateless call that sends nothing.
type discardOut struct{}

func (discardOut) Send([]byte) error { return nil }

// TestTaskPrincipal: with authorization on, a 2026-07-28 task is found
// only by requests of the principal that created it; another principal's
// tasks/get, tasks/update and tasks/cancel get -32602 unknown task, as
// for an ID that does not exist (2025-11-25 basic/authorization).
func TestTaskPrincipal(t *testing.T) {
	s := mcp.NewServer(mcp.Implementation{Name: "t", Version: "1"}, &mcp.ServerOptions{Tasks: &mcp.TaskOptions{SyncWindow: time.Hour}})
	s.AddTool(&mcp.Tool{Name: "quick", InputSchema: objectSchema, Execution: &mcp.ToolExecution{TaskSupport: mcp.TaskSupportOptional}},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			req.RunAsTask()
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("done")}}, nil
		})
	alice := &mcp.Principal{Issuer: "https://as.example", Subject: "alice"}
	mallory := &mcp.Principal{Issuer: "https://as.example", Subject: "mallory"}
	call := func(p *mcp.Principal, method, name string, params map[string]any) ([]byte, *jsonrpc.Error) {
		t.Helper()
		params["_meta"] = map[string]any{
			mcp.MetaProtocolVersion:    mcp.Version20260728,
			mcp.MetaClientCapabilities: tasksCaps,
			mcp.MetaClientInfo:         map[string]any{"name": "c", "version": "1"},
		}
		raw, _ := json.Marshal(params)
		return s.HandleStateless(&mcp.StatelessCall{
			Method: method, ID: json.RawMessage(`1`), Params: raw, Principal: p, Out: discardOut{}, Context: context.Background(),
			Headers: map[string]string{"mcp-protocol-version": mcp.Version20260728, "mcp-method": method, "mcp-name": name},
		})
	}
	res, jerr := call(alice, "tools/call", "quick", map[string]any{"name": "quick"})
	var created struct {
		TaskID string `json:"taskId"`
	}
	if jerr != nil || json.Unmarshal(res, &created) != nil || created.TaskID == "" {
		t.Fatalf("tools/call as alice: %s %v", res, jerr)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		res, jerr := call(alice, "tasks/get", created.TaskID, map[string]any{"taskId": created.TaskID})
		if jerr != nil || !strings.Contains(string(res), `"completed"`) {
			return jsonrpc.NewError(0, "tasks/get as alice: "+string(res))
		}
		return nil
	})
	for _, m := range []string{"tasks/get", "tasks/update", "tasks/cancel"} {
		if _, jerr := call(mallory, m, created.TaskID, map[string]any{"taskId": created.TaskID}); jerr == nil || jerr.Code != jsonrpc.CodeInvalidParams || !strings.Contains(jerr.Message, "unknown task") {
			t.Errorf("%s of alice's task as mallory: %v, want -32602 unknown task", m, jerr)
		}
		if _, jerr := call(nil, m, created.TaskID, map[string]any{"taskId": created.TaskID}); jerr == nil || jerr.Code != jsonrpc.CodeInvalidParams {
			t.Errorf("%s of alice's task without a principal: %v, want -32602 unknown task", m, jerr)
		}
	}
}
