// Command library serves an MCP server with one tool on
// http://127.0.0.1:8080/mcp and drains it on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/transport"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	srv := mcp.NewServer(mcp.Implementation{Name: "my-server", Version: "1.0.0"}, nil)
	// The input schema is inferred from greetArgs, and the arguments are
	// validated against it before the handler runs: a call without a name
	// gets a result with isError, naming what is missing.
	type greetArgs struct {
		Name string `json:"name" jsonschema:"who to greet"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "greet", Description: "Says hello."},
		func(ctx context.Context, req *mcp.CallToolRequest, args greetArgs) (*mcp.CallToolResult, any, error) {
			_ = req.Progress(1, 1, "greeting") // sent before the result: the response becomes an SSE stream
			return mcp.TextResult("hello, " + args.Name), nil, nil
		})
	h := transport.NewHandler(srv, nil) // nil: defaults (see transport.Options)
	app := transport.NewApp(h)          // a Fiber app set up for SSE, with h at /mcp

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	// transport.NewListener backs off when accept runs out of descriptors,
	// caps connections and bounds every write by a write timeout (nil:
	// defaults); app.Listen(addr) works too, without those.
	served := make(chan error, 1)
	go func() { served <- app.Listener(transport.NewListener(ln, nil)) }()
	log.Printf("serving http://%s/mcp", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-served:
		log.Fatal(err)
	case <-ctx.Done():
	}

	// Drain within 15s: the listener closes and idle connections with it
	// (app.ShutdownWithContext), while the handler answers new sessions
	// with 503, closes GET streams spread over 5s, lets tool calls finish
	// and then ends every session (h.Shutdown).
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	appDone := make(chan error, 1)
	go func() { appDone <- app.ShutdownWithContext(ctx) }()
	if err := h.Shutdown(ctx, 5*time.Second); err != nil {
		log.Print("shutdown: ", err)
	}
	if err := <-appDone; err != nil {
		log.Print("shutdown: ", err)
	}
	<-served
	log.Print("stopped")
}
