package gosdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/transport"
)

// TestMain fails the package when a goroutine of the adapter or of an SDK
// session outlives the tests.
func TestMain(m *testing.M) { testutil.Main(m, leakMarkers...) }

var leakMarkers = []string{
	"gosdk.(*conn).Close.func",
	"go-sdk/internal/jsonrpc2.(*Connection)",
	"transport.(*Handler).writeSSE",
}

type echoArgs struct {
	Message string `json:"message"`
}

// newSDKServer builds a server with the Go SDK: echo (two progress
// notifications first when asked), sample (asks the client to sample, on
// the request's stream) and log (a log message, then the result).
func newSDKServer() *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "sdk-server", Version: "1"}, &sdk.ServerOptions{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	sdk.AddTool(s, &sdk.Tool{Name: "echo", Description: "Returns its message."},
		func(ctx context.Context, req *sdk.CallToolRequest, in echoArgs) (*sdk.CallToolResult, any, error) {
			if tok := req.Params.GetProgressToken(); tok != nil {
				for i := 1; i <= 2; i++ {
					if err := req.Session.NotifyProgress(ctx, &sdk.ProgressNotificationParams{ProgressToken: tok, Progress: float64(i), Total: 2}); err != nil {
						return nil, nil, err
					}
				}
			}
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: in.Message}}}, nil, nil
		})
	sdk.AddTool(s, &sdk.Tool{Name: "sample", Description: "Asks the client to sample."},
		func(ctx context.Context, req *sdk.CallToolRequest, _ struct{}) (*sdk.CallToolResult, any, error) {
			//lint:ignore SA1019 sampling is deprecated from 2026-07-28 on; the revisions served here have it.
			msgs := []*sdk.SamplingMessage{{Role: "user", Content: &sdk.TextContent{Text: "hello"}}}
			//lint:ignore SA1019 see above.
			res, err := req.Session.CreateMessage(ctx, &sdk.CreateMessageParams{MaxTokens: 10, Messages: msgs})
			if err != nil {
				return nil, nil, err
			}
			text := ""
			if tc, ok := res.Content.(*sdk.TextContent); ok {
				text = tc.Text
			}
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "sampled: " + text}}}, nil, nil
		})
	return s
}

// serve runs b behind a transport.Handler on 127.0.0.1:0 and returns the
// endpoint URL and the handler.
func serve(t testing.TB, b *Backend) (string, *transport.Handler) {
	t.Helper()
	h := transport.NewHandler(b, &transport.Options{KeepAlive: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	app := transport.NewApp(h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		appDone := make(chan error, 1)
		go func() { appDone <- app.ShutdownWithContext(ctx) }()
		h.Shutdown(ctx, 0)
		<-appDone
		<-served
		if err := b.Close(ctx); err != nil {
			t.Errorf("Backend.Close: %v", err)
		}
	})
	return "http://" + ln.Addr().String() + "/mcp", h
}

// sampler answers sampling/createMessage with "pong".
//
//lint:ignore SA1019 sampling is deprecated from 2026-07-28 on; the revisions served here have it.
func sampler(context.Context, *sdk.CreateMessageRequest) (*sdk.CreateMessageResult, error) {
	//lint:ignore SA1019 see above.
	return &sdk.CreateMessageResult{Content: &sdk.TextContent{Text: "pong"}, Model: "test", Role: "assistant"}, nil
}

func connect(t testing.TB, url string, opts *sdk.ClientOptions) *sdk.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := sdk.NewClient(&sdk.Implementation{Name: "gosdk-test", Version: "1"}, opts)
	cs, err := c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func textOf(res *sdk.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// TestSDKServerBehindTransport runs an SDK-built server behind the
// adapter and drives it with the SDK's own client: tools/list, tools/call
// with progress on the request's stream, a sampling round trip, the
// session ID on both sides, and the end of a session from either side.
func TestSDKServerBehindTransport(t *testing.T) {
	s := newSDKServer()
	url, h := serve(t, New(s, nil))
	var mu sync.Mutex
	var progress []float64
	//lint:ignore SA1019 sampling is deprecated from 2026-07-28 on; the revisions served here have it.
	cs := connect(t, url, &sdk.ClientOptions{CreateMessageHandler: sampler,
		ProgressNotificationHandler: func(_ context.Context, req *sdk.ProgressNotificationClientRequest) {
			mu.Lock()
			progress = append(progress, req.Params.Progress)
			mu.Unlock()
		}})
	ctx := context.Background()

	if v := cs.InitializeResult().ProtocolVersion; v != "2025-11-25" {
		t.Errorf("protocol version = %q, want 2025-11-25 (after the fallback from 2026-07-28)", v)
	}
	if got := cs.InitializeResult().ServerInfo.Name; got != "sdk-server" {
		t.Errorf("serverInfo.name = %q, want sdk-server", got)
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	if len(tools.Tools) != 2 {
		t.Fatalf("ListTools: %d tools, want 2", len(tools.Tools))
	}

	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: echoArgs{Message: "hi"}, Meta: sdk.Meta{"progressToken": "p1"}})
	if err != nil {
		t.Fatalf("CallTool echo: %v", err)
	}
	if got := textOf(res); got != "hi" {
		t.Errorf("echo = %q, want hi", got)
	}
	waitFor(t, 5*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(progress) != 2 {
			return fmt.Errorf("progress = %v, want [1 2]", progress)
		}
		return nil
	})

	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "sample"})
	if err != nil {
		t.Fatalf("CallTool sample: %v", err)
	}
	if got := textOf(res); got != "sampled: pong" {
		t.Errorf("sample = %q, want %q", got, "sampled: pong")
	}

	var ss *sdk.ServerSession
	for x := range s.Sessions() {
		ss = x
	}
	if ss == nil || ss.ID() != cs.ID() {
		t.Fatalf("server session ID = %v, want the Mcp-Session-Id %q", ss, cs.ID())
	}

	// The SDK side closes its session: the session ends, and the
	// client's next request gets 404.
	if err := ss.Close(); err != nil {
		t.Fatalf("ServerSession.Close: %v", err)
	}
	waitFor(t, 5*time.Second, func() error {
		if n := h.Sessions().Len(); n != 0 {
			return fmt.Errorf("%d live sessions after the SDK closed its session", n)
		}
		return nil
	})
	if _, err := cs.ListTools(ctx, nil); err == nil {
		t.Error("ListTools after the SDK closed the session: no error, want one")
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":9,"method":"ping"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", cs.ID())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST to the closed session: %d, want 404", resp.StatusCode)
	}

	// A new session works; the client's DELETE ends the SDK session.
	cs2 := connect(t, url, nil)
	if _, err := cs2.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: echoArgs{Message: "again"}}); err != nil {
		t.Fatalf("CallTool on a new session: %v", err)
	}
	var ss2 *sdk.ServerSession
	for x := range s.Sessions() {
		ss2 = x
	}
	if err := cs2.Close(); err != nil {
		t.Fatalf("ClientSession.Close: %v", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- ss2.Wait() }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("the SDK session did not end after the client's DELETE")
	}
}

// TestInitializeErrors checks initialize params the SDK never sees.
func TestInitializeErrors(t *testing.T) {
	b := New(newSDKServer(), nil)
	if _, _, jerr := b.Initialize([]byte(`{}`)); jerr == nil || jerr.Code != -32602 {
		t.Errorf("Initialize({}) = %v, want -32602", jerr)
	}
	if err := b.Close(context.Background()); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Close: %v", err)
	}
}

// waitFor is testutil.WaitFor, by its short name.
var waitFor = testutil.WaitFor
