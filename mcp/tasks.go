package mcp

import (
	"strings"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
)

// TasksExtension is the extension identifier of tasks at 2026-07-28.
const TasksExtension = "io.modelcontextprotocol/tasks"

// TaskOptions configure the tasks extension.
type TaskOptions struct{}

type taskStore struct{ s *Server }

func newTaskStore(s *Server, _ *TaskOptions) *taskStore { return &taskStore{s: s} }

func isTaskMethod(m string) bool { return strings.HasPrefix(m, "tasks/") }

func (t *taskStore) handle(c *Call) ([]byte, *jsonrpc.Error) { return nil, methodNotFound(c.Method) }

func (t *taskStore) maybeTask(c *Call, tool *serverTool, p *CallToolParams) ([]byte, *jsonrpc.Error, bool) {
	return nil, nil, false
}

func (t *taskStore) legacyCapability() map[string]any { return nil }
