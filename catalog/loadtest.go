package catalog

import (
	"context"
	"fmt"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// LoadTest adds the default tools ([Default]) to s, and an event source
// for the load generator's GET stream scenarios (loadtest getkill):
//
//   - broadcast {seq: integer ≥ 1}: logs {"seq": seq} at info, logger
//     "loadtest", to every session of the deployment on its GET stream
//     ([mcp.Server.LogAll]: with --redis-url, through Redis to the
//     sessions of the other nodes), and returns empty content. The
//     client numbers the broadcasts; each GET stream then tells which
//     it lost or got twice.
func LoadTest(s *mcp.Server) {
	Default(s)
	s.AddTool(&mcp.Tool{
		Name:        "broadcast",
		Description: "Logs {\"seq\": seq} to every session of the deployment, on its GET stream.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"seq":{"type":"integer","minimum":1,"description":"The broadcast's number."}},"required":["seq"]}`),
	}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var args struct {
			Seq *int64 `json:"seq"`
		}
		if err := jsonrpc.Unmarshal(req.Params.Arguments, &args); err != nil || args.Seq == nil || *args.Seq < 1 {
			return nil, fmt.Errorf("broadcast: arguments must be an object with an integer \"seq\" ≥ 1")
		}
		if err := s.LogAll(mcp.LevelInfo, "loadtest", map[string]any{"seq": *args.Seq}); err != nil {
			return nil, err
		}
		return &mcp.CallToolResult{Content: []mcp.Content{}}, nil
	})
}
