package transport_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/transport"
)

// A modernServer serves an mcp.Server with two tools on an in-memory
// listener, inside a synctest bubble (transport.InBubble): "wait" sends
// progress, then waits for its context and sends the (fake) time it ended
// on cancelled; "quick" answers at once.
type modernServer struct {
	client    *http.Client   // dials the in-memory listener
	cancelled chan time.Time // buffered
}

func newModernServer(t *testing.T, opts *transport.Options) *modernServer {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ms := &modernServer{cancelled: make(chan time.Time, 8)}
	srv := mcp.NewServer(mcp.Implementation{Name: "t", Version: "1"}, &mcp.ServerOptions{Logger: quiet})
	schema := json.RawMessage(`{"type":"object"}`)
	srv.AddTool(&mcp.Tool{Name: "wait", InputSchema: schema}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		_ = req.Progress(1, 0, "started")
		<-ctx.Done()
		ms.cancelled <- time.Now()
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
	_, ms.client = transport.ServeInmemory(t, h, transport.NewApp(h))
	return ms
}

const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"progressToken":7}`

// post sends a 2026-07-28 POST.
func (ms *modernServer) post(t *testing.T, method, name, body, accept string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://mcp.test/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", method)
	if name != "" {
		req.Header.Set("Mcp-Name", name)
	}
	req.Header.Set("Mcp-Session-Id", "ffffffffffffffffffffffffffffffff") // ignored at 2026-07-28
	resp, err := ms.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestModernShapes checks the 2026-07-28 POST answers the transport
// decides: a batch is refused, a notification gets 202, a stale session ID
// is ignored, JSON or SSE by what the request sends first, and JSON when
// that is all the client accepts.
func TestModernShapes(t *testing.T) { transport.InBubble(t, testModernShapes) }

func testModernShapes(t *testing.T) {
	ms := newModernServer(t, nil)
	both := "application/json, text/event-stream"
	check := func(name string, resp *http.Response, status int, ct, bodyHas string) {
		t.Helper()
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) || !strings.Contains(string(b), bodyHas) {
			t.Errorf("%s: %d %s %s, want %d %s containing %q", name, resp.StatusCode, resp.Header.Get("Content-Type"), b, status, ct, bodyHas)
		}
	}
	check("batch", ms.post(t, "tools/list", "", `[{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{`+modernMeta+`}}]`, both),
		400, "application/json", `"code":-32600`)
	resp := ms.post(t, "notifications/x", "", `{"jsonrpc":"2.0","method":"notifications/x","params":{`+modernMeta+`}}`, both)
	check("notification", resp, 202, "", "")
	check("list", ms.post(t, "tools/list", "", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{`+modernMeta+`}}`, both),
		200, "application/json", `"resultType":"complete"`)
	check("progress first", ms.post(t, "tools/call", "quick", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"quick",`+modernMeta+`}}`, both),
		200, "text/event-stream", `"method":"notifications/progress"`)
	check("JSON only", ms.post(t, "tools/call", "quick", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"quick",`+modernMeta+`}}`, "application/json"),
		200, "application/json", `"text":"quick"`)
	check("listen without SSE", ms.post(t, "subscriptions/listen", "", `{"jsonrpc":"2.0","id":4,"method":"subscriptions/listen","params":{"notifications":{},`+modernMeta+`}}`, "application/json"),
		406, "application/json", `"id":4`)
}

// TestModernCloseCancels checks 2026-07-28 basic/transports: "Closing the
// SSE response stream MUST be treated by the server as cancellation of
// that request." The handler's context ends once a write of the server
// fails: in fake time, exactly two keep-alive intervals after the close.
// The first keep-alive after it still goes into fasthttp's body-stream
// pipe, whose copier then finds the connection closed; the second fails
// (the lag of valyala/fasthttp#771, pinned).
func TestModernCloseCancels(t *testing.T) { transport.InBubble(t, testModernCloseCancels) }

func testModernCloseCancels(t *testing.T) {
	const interval = 20 * time.Millisecond
	ms := newModernServer(t, &transport.Options{KeepAlive: interval})
	resp := ms.post(t, "tools/call", "wait", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"wait",`+modernMeta+`}}`,
		"application/json, text/event-stream")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "event: message") {
		t.Fatalf("first line %q, %v", line, err)
	}
	resp.Body.Close()
	closed := time.Now()
	select {
	case at := <-ms.cancelled:
		if took := at.Sub(closed); took != 2*interval {
			t.Errorf("the handler was cancelled %v after the client closed the stream, want %v (two keep-alive intervals)", took, 2*interval)
		}
	case <-time.After(time.Minute):
		t.Fatal("the handler was not cancelled within a minute of the client closing the stream")
	}
}
