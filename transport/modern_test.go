package transport_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/transport"
)

// modernServer serves an mcp.Server with two tools on 127.0.0.1:0:
// "wait" sends progress, then waits for its context (counting
// cancellations); "quick" answers at once.
func modernServer(t *testing.T, opts *transport.Options) (url string, cancelled *atomic.Int32) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cancelled = new(atomic.Int32)
	srv := mcp.NewServer(mcp.Implementation{Name: "t", Version: "1"}, &mcp.ServerOptions{Logger: quiet})
	schema := json.RawMessage(`{"type":"object"}`)
	srv.AddTool(&mcp.Tool{Name: "wait", InputSchema: schema}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		_ = req.Progress(1, 0, "started")
		<-ctx.Done()
		cancelled.Add(1)
		return nil, ctx.Err()
	})
	srv.AddTool(&mcp.Tool{Name: "quick", InputSchema: schema}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		_ = req.Progress(1, 1, "done")
		return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("quick")}}, nil
	})
	if opts == nil {
		opts = &transport.Options{}
	}
	opts.Logger = quiet
	h := transport.NewHandler(srv, opts)
	app := transport.NewApp(h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(transport.Listener(ln)) }() // owner: the test; exit: Cleanup
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx, 0)
		_ = app.ShutdownWithContext(ctx)
		<-served
	})
	return "http://" + ln.Addr().String() + "/mcp", cancelled
}

const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"progressToken":7}`

func modernPost(t *testing.T, url, method, name, body, accept string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", method)
	if name != "" {
		req.Header.Set("Mcp-Name", name)
	}
	req.Header.Set("Mcp-Session-Id", "ffffffffffffffffffffffffffffffff") // ignored at 2026-07-28
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestModernShapes checks the 2026-07-28 POST answers the transport
// decides: a batch is refused, a notification gets 202, a stale session ID
// is ignored, JSON or SSE by what the request sends first, and JSON when
// that is all the client accepts.
func TestModernShapes(t *testing.T) {
	url, _ := modernServer(t, nil)
	both := "application/json, text/event-stream"
	check := func(name string, resp *http.Response, status int, ct, bodyHas string) {
		t.Helper()
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) || !strings.Contains(string(b), bodyHas) {
			t.Errorf("%s: %d %s %s, want %d %s containing %q", name, resp.StatusCode, resp.Header.Get("Content-Type"), b, status, ct, bodyHas)
		}
	}
	check("batch", modernPost(t, url, "tools/list", "", `[{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{`+modernMeta+`}}]`, both),
		400, "application/json", `"code":-32600`)
	resp := modernPost(t, url, "notifications/x", "", `{"jsonrpc":"2.0","method":"notifications/x","params":{`+modernMeta+`}}`, both)
	check("notification", resp, 202, "", "")
	check("list", modernPost(t, url, "tools/list", "", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{`+modernMeta+`}}`, both),
		200, "application/json", `"resultType":"complete"`)
	check("progress first", modernPost(t, url, "tools/call", "quick", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"quick",`+modernMeta+`}}`, both),
		200, "text/event-stream", `"method":"notifications/progress"`)
	check("JSON only", modernPost(t, url, "tools/call", "quick", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"quick",`+modernMeta+`}}`, "application/json"),
		200, "application/json", `"text":"quick"`)
	check("listen without SSE", modernPost(t, url, "subscriptions/listen", "", `{"jsonrpc":"2.0","id":4,"method":"subscriptions/listen","params":{"notifications":{},`+modernMeta+`}}`, "application/json"),
		406, "application/json", `"id":4`)
}

// TestModernCloseCancels checks 2026-07-28 basic/transports: "Closing the
// SSE response stream MUST be treated by the server as cancellation of
// that request." The handler's context ends once the server notices
// (its next write, here a keep-alive).
func TestModernCloseCancels(t *testing.T) {
	url, cancelled := modernServer(t, &transport.Options{KeepAlive: 20 * time.Millisecond})
	resp := modernPost(t, url, "tools/call", "wait", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"wait",`+modernMeta+`}}`,
		"application/json, text/event-stream")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "event: message") {
		t.Fatalf("first line %q, %v", line, err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for cancelled.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the handler was not cancelled within 5s of the client closing the stream")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
