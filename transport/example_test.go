package transport_test

import (
	"context"
	"encoding/json"
	"log"
	"net"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/transport"
)

// An MCP server with one tool, served at http://127.0.0.1:8080/mcp. The
// README's library example, examples/library, is this as a complete
// program that drains with Handler.Shutdown on SIGINT or SIGTERM.
func ExampleNewApp() {
	srv := mcp.NewServer(mcp.Implementation{Name: "my-server", Version: "1.0.0"}, nil)
	srv.AddTool(&mcp.Tool{
		Name:        "greet",
		Description: "Says hello.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}}}`),
	}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		_ = req.Progress(1, 1, "greeting") // sent before the result: the response becomes an SSE stream
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("hello")}}, nil
	})
	h := transport.NewHandler(srv, nil) // nil: defaults (see transport.Options)
	app := transport.NewApp(h)          // a Fiber app set up for SSE, with h at /mcp
	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		log.Fatal(err)
	}
	// transport.NewListener backs off when accept runs out of descriptors,
	// caps connections and bounds every write by a write timeout (nil:
	// defaults); app.Listen(addr) works too, without those.
	log.Fatal(app.Listener(transport.NewListener(ln, nil)))
}
