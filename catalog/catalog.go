// Package catalog holds the feature sets the mcpfiber binary can serve,
// chosen with --catalog:
//
//   - "default" ([Default]) is small and useful for trying a client against
//     the server: echo, and progress (which sends progress and logging
//     notifications before its result, so its response comes as an SSE
//     stream);
//   - "conformance" ([Conformance]) is what the official MCP conformance
//     suite calls: test tools, resources, prompts and completion;
//   - "loadtest" ([LoadTest]) is the default one and an event source for
//     the load generator: broadcast, a log message to every session of the
//     deployment.
package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// A Catalog is a named feature set: Options sets the server options it
// needs, Register adds its features to a server.
type Catalog struct {
	Name     string
	Options  func(*mcp.ServerOptions)
	Register func(*mcp.Server)
}

// Names are the catalogues [Lookup] knows.
var Names = []string{"default", "conformance", "loadtest"}

// Lookup returns the catalogue called name, one of [Names].
func Lookup(name string) (Catalog, error) {
	switch name {
	case "", "default":
		return Catalog{Name: "default", Options: func(*mcp.ServerOptions) {}, Register: Default}, nil
	case "conformance":
		return Catalog{Name: "conformance", Options: ConformanceOptions, Register: Conformance}, nil
	case "loadtest":
		return Catalog{Name: "loadtest", Options: func(*mcp.ServerOptions) {}, Register: LoadTest}, nil
	}
	return Catalog{}, fmt.Errorf("unknown catalog %q (want one of %s)", name, strings.Join(Names, ", "))
}

// Limits of the progress tool's arguments.
const (
	MaxProgressSteps    = 100
	MaxProgressInterval = 10 * time.Second
)

// Default adds the default tools to s:
//
//   - echo {message: string}: returns message as text; an inline tool
//     ([mcp.Tool.Inline]: it runs on the request's goroutine).
//   - progress {steps?: integer (1–100, default 3), intervalMs?: integer
//     (0–10000, default 10)}: sends steps progress notifications (when the
//     request has a progressToken) and an info log message per step, then
//     returns "done: N steps". It stops early when the request is
//     cancelled.
func Default(s *mcp.Server) {
	s.AddTool(&mcp.Tool{
		Name:        "echo",
		Description: "Returns the message it is given.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"message":{"type":"string","description":"The text to return."}},"required":["message"]}`),
		Inline:      true, // it only computes: no hand-off to a call worker
	}, echo)
	s.AddTool(&mcp.Tool{
		Name:        "progress",
		Description: "Reports progress and logs a message at each step, then returns.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"steps":{"type":"integer","minimum":1,"maximum":100,"default":3},"intervalMs":{"type":"integer","minimum":0,"maximum":10000,"default":10}}}`),
	}, progress)
}

// echo reads its one argument without decoding the arguments
// ([mcp.CallToolParams.StringArgument]) and returns it as a text block,
// written as any tool would write it: the benchmarks measure the server,
// not a tool's tricks.
func echo(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	msg, ok := req.Params.StringArgument("message")
	if !ok {
		return nil, fmt.Errorf("echo: arguments must be an object with a string \"message\"")
	}
	return mcp.TextResult(msg), nil
}

func progress(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	args := struct {
		Steps      int `json:"steps"`
		IntervalMs int `json:"intervalMs"`
	}{Steps: 3, IntervalMs: 10}
	if len(req.Params.Arguments) > 0 {
		if err := jsonrpc.Unmarshal(req.Params.Arguments, &args); err != nil {
			return nil, fmt.Errorf("progress: arguments: %v", err)
		}
	}
	interval := time.Duration(args.IntervalMs) * time.Millisecond
	if args.Steps < 1 || args.Steps > MaxProgressSteps || interval < 0 || interval > MaxProgressInterval {
		return nil, fmt.Errorf("progress: steps must be 1–%d and intervalMs 0–%d", MaxProgressSteps, MaxProgressInterval.Milliseconds())
	}
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	for i := 1; i <= args.Steps; i++ {
		if err := req.Progress(float64(i), float64(args.Steps), fmt.Sprintf("step %d of %d", i, args.Steps)); err != nil {
			return nil, err
		}
		if err := req.Log(mcp.LevelInfo, "progress", fmt.Sprintf("step %d of %d", i, args.Steps)); err != nil {
			return nil, err
		}
		if i < args.Steps {
			t.Reset(interval)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-t.C:
			}
		}
	}
	return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(fmt.Sprintf("done: %d steps", args.Steps))}}, nil
}
