// Package conformance_test drives the mcpfiber server (with the
// conformance catalogue) with official MCP clients: the Go SDK here, the
// TypeScript SDK in interop_ts_test.go.
//
//lint:file-ignore SA1019 sampling is deprecated from 2026-07-28 on; the 2025-11-25 session here uses it on purpose.
package conformance_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfiber/mcpfiber/server"
)

// startServer runs the binary's server with the conformance catalogue on
// 127.0.0.1:0; Cleanup shuts it down.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	srv := server.New(server.Config{
		Addr:        "127.0.0.1:0",
		Catalog:     "conformance",
		KeepAlive:   -1,
		DrainWindow: time.Millisecond,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }() // owner: the test; exit: Shutdown in Cleanup
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

func firstText(t *testing.T, res *sdk.CallToolResult) string {
	t.Helper()
	if len(res.Content) == 0 {
		t.Fatalf("empty tool result")
	}
	tc, ok := res.Content[0].(*sdk.TextContent)
	if !ok {
		t.Fatalf("first content %T, want text", res.Content[0])
	}
	return tc.Text
}

// TestInteropGoSDKBothEras connects the official Go SDK client (v1.8.0)
// to one endpoint twice in the same run: at its default revision,
// 2026-07-28 (stateless: server/discover, per-request _meta, input-required
// results answered by the client's handlers), and at 2025-11-25 (a session:
// initialize, server-to-client elicitation and sampling on the call's
// stream, DELETE at the end).
func TestInteropGoSDKBothEras(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var mu sync.Mutex
	var progress []float64
	var elicited []string
	client := sdk.NewClient(&sdk.Implementation{Name: "mcpfiber-interop", Version: "0"}, &sdk.ClientOptions{
		ElicitationHandler: func(_ context.Context, r *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
			mu.Lock()
			elicited = append(elicited, r.Params.Message)
			mu.Unlock()
			return &sdk.ElicitResult{Action: "accept", Content: map[string]any{"name": "Alice", "color": "blue", "username": "alice", "email": "a@example.com"}}, nil
		},
		CreateMessageHandler: func(_ context.Context, r *sdk.CreateMessageRequest) (*sdk.CreateMessageResult, error) {
			return &sdk.CreateMessageResult{Role: "assistant", Model: "test-model", Content: &sdk.TextContent{Text: "Paris"}}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, r *sdk.ProgressNotificationClientRequest) {
			mu.Lock()
			progress = append(progress, r.Params.Progress)
			mu.Unlock()
		},
	})
	httpClient := &http.Client{Transport: &http.Transport{}}
	defer httpClient.CloseIdleConnections()
	connect := func(version string) *sdk.ClientSession {
		t.Helper()
		cs, err := client.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: srv.URL(), HTTPClient: httpClient},
			&sdk.ClientSessionOptions{ProtocolVersion: version})
		if err != nil {
			t.Fatalf("Connect(%q): %v", version, err)
		}
		return cs
	}

	t.Run("2026-07-28", func(t *testing.T) {
		cs := connect("")
		defer cs.Close()
		if v := cs.InitializeResult().ProtocolVersion; v != "2026-07-28" {
			t.Fatalf("negotiated %q, want 2026-07-28", v)
		}
		if n := srv.Handler().Sessions().Len(); n != 0 {
			t.Errorf("%d sessions for a stateless client, want 0", n)
		}
		tools, err := cs.ListTools(ctx, nil)
		if err != nil || len(tools.Tools) < 20 {
			t.Fatalf("ListTools: %d tools, %v", len(tools.Tools), err)
		}
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "test_tool_with_progress", Meta: sdk.Meta{"progressToken": "p1"}})
		if err != nil || firstText(t, res) != "p1" {
			t.Fatalf("progress tool: %v %v", res, err)
		}
		// The client handles notifications on goroutines of its own: they
		// were sent before the response, but may be handled after it.
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			n := len(progress)
			mu.Unlock()
			if n >= 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d progress notifications handled, want 3", n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "test_input_required_result_elicitation"})
		if err != nil || firstText(t, res) != "Hello, Alice!" {
			t.Fatalf("input-required tool: %v %v", res, err)
		}
		res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "test_input_required_result_multi_round"})
		if err != nil || firstText(t, res) != "Multi-round complete: Alice likes blue" {
			t.Fatalf("multi-round tool: %v %v", res, err)
		}
		rr, err := cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "test://static-text"})
		if err != nil || len(rr.Contents) != 1 || rr.Contents[0].Text == "" {
			t.Fatalf("ReadResource: %v %v", rr, err)
		}
		if _, err := cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "test://nope"}); err == nil {
			t.Errorf("reading an unknown resource succeeded")
		}
	})

	t.Run("2025-11-25", func(t *testing.T) {
		cs := connect("2025-11-25")
		if v := cs.InitializeResult().ProtocolVersion; v != "2025-11-25" {
			t.Fatalf("negotiated %q, want 2025-11-25", v)
		}
		if s := srv.Handler().Sessions().Lookup(cs.ID()); s == nil {
			t.Fatalf("no server session for %q", cs.ID())
		}
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "test_elicitation", Arguments: map[string]any{"message": "who?"}})
		if err != nil || !strings.Contains(firstText(t, res), `"username":"alice"`) {
			t.Fatalf("elicitation tool: %v %v", res, err)
		}
		res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "test_sampling", Arguments: map[string]any{"prompt": "capital?"}})
		if err != nil || firstText(t, res) != "LLM response: Paris" {
			t.Fatalf("sampling tool: %v %v", res, err)
		}
		// The same input-required tool, served to a session: the server
		// asks the client itself.
		res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "test_input_required_result_elicitation"})
		if err != nil || firstText(t, res) != "Hello, Alice!" {
			t.Fatalf("input-required tool in a session: %v %v", res, err)
		}
		id := cs.ID()
		if err := cs.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if s := srv.Handler().Sessions().Lookup(id); s != nil {
			t.Errorf("session %s still live after the client closed it", id)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if len(elicited) < 3 {
		t.Errorf("elicitations %q, want at least 3", elicited)
	}
}
