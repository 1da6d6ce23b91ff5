package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/mcpfiber/mcpfiber/catalog"
	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/transport"
)

// TestMain fails the package when a tool call outlives its request: the
// progress tool stops when cancelled.
func TestMain(m *testing.M) {
	testutil.Main(m, "catalog.progress", "catalog.sleep", "transport.(*workers).loop")
}

// A seen collects the notifications a client session receives.
type seen struct {
	mu       sync.Mutex // guards the fields below
	progress []string   // "token progress/total message"
	logs     []string   // "level logger data"
}

func (s *seen) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.progress, s.logs = nil, nil
}

func (s *seen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("progress %q, logs %q", s.progress, s.logs)
}

// connect serves c behind the transport on an in-memory listener and
// returns a Go SDK client session at version, and what it receives.
func connect(t *testing.T, c catalog.Catalog, version string) (*sdk.ClientSession, *seen) {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	opts := &mcp.ServerOptions{Logger: quiet}
	c.Options(opts)
	srv := mcp.NewServer(mcp.Implementation{Name: "catalog-test", Version: "0"}, opts)
	c.Register(srv)
	h := transport.NewHandler(srv, &transport.Options{Logger: quiet})
	app := transport.NewApp(h)
	ln := fasthttputil.NewInmemoryListener()
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }() // owner: the test; exit: Shutdown in Cleanup
	tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return ln.Dial() }}

	got := &seen{}
	client := sdk.NewClient(&sdk.Implementation{Name: "catalog-test", Version: "0"}, &sdk.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *sdk.ProgressNotificationClientRequest) {
			got.mu.Lock()
			got.progress = append(got.progress, fmt.Sprintf("%v %v/%v %s", r.Params.ProgressToken, r.Params.Progress, r.Params.Total, r.Params.Message))
			got.mu.Unlock()
		},
		//lint:ignore SA1019 logging is deprecated from 2026-07-28 on; the revisions used here have it.
		LoggingMessageHandler: func(_ context.Context, r *sdk.LoggingMessageRequest) {
			got.mu.Lock()
			got.logs = append(got.logs, fmt.Sprintf("%s %s %v", r.Params.Level, r.Params.Logger, r.Params.Data))
			got.mu.Unlock()
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &sdk.StreamableClientTransport{
		Endpoint: "http://mcp.test/mcp", HTTPClient: &http.Client{Transport: tr}, DisableStandaloneSSE: true,
	}, &sdk.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		cs.Close()
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx, 0); err != nil {
			t.Errorf("Handler.Shutdown: %v", err)
		}
		if err := app.ShutdownWithContext(ctx); err != nil {
			t.Errorf("app.Shutdown: %v", err)
		}
		<-served
	})
	return cs, got
}

// text returns the text of a tool result with one text content.
func text(r *sdk.CallToolResult) string {
	if len(r.Content) != 1 {
		return fmt.Sprintf("(%d contents)", len(r.Content))
	}
	if tc, ok := r.Content[0].(*sdk.TextContent); ok {
		return tc.Text
	}
	return fmt.Sprintf("(%T)", r.Content[0])
}

// A toolCase is a tools/call and the result it must get.
type toolCase struct {
	tool    string
	args    map[string]any
	token   string // progressToken, if not empty
	isError bool
	text    string // the text content; with isError, a part of it
	notes   string // what the client must have received, as seen.String
}

func (c toolCase) check(t *testing.T, cs *sdk.ClientSession, got *seen) {
	t.Helper()
	params := &sdk.CallToolParams{Name: c.tool, Arguments: c.args}
	if c.token != "" {
		params.SetProgressToken(c.token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, params)
	if err != nil {
		t.Fatalf("CallTool(%s, %v): %v", c.tool, c.args, err)
	}
	if res.IsError != c.isError || c.isError && !strings.Contains(text(res), c.text) || !c.isError && text(res) != c.text {
		t.Errorf("CallTool(%s, %v) = %q (isError %v), want %q (isError %v)", c.tool, c.args, text(res), res.IsError, c.text, c.isError)
	}
	if c.notes != "" {
		// The notifications came before the response on the POST's SSE
		// stream, but the SDK client handles them on goroutines of its own.
		testutil.WaitFor(t, 5*time.Second, func() error {
			if s := got.String(); s != c.notes {
				return fmt.Errorf("CallTool(%s, %v) notifications: %s, want %s", c.tool, c.args, s, c.notes)
			}
			return nil
		})
		got.reset()
	}
}

// TestDefault checks the default catalogue's tools: echo, and progress
// with its steps, notifications and argument checks.
func TestDefault(t *testing.T) {
	c, err := catalog.Lookup("default")
	if err != nil {
		t.Fatal(err)
	}
	// Arguments that break the input schema never reach the handler: the
	// server's validation answers (mcp.Server.AddTool).
	for _, tc := range []toolCase{
		{tool: "echo", args: map[string]any{"message": "hello, fiber"}, text: "hello, fiber"},
		{tool: "echo", args: map[string]any{"message": ""}, text: ""},
		{tool: "echo", args: map[string]any{}, isError: true, text: `required: missing properties: ["message"]`},
		{tool: "echo", args: map[string]any{"message": 7}, isError: true, text: `at arguments/message: type: `},
		{tool: "progress", args: map[string]any{"steps": 2, "intervalMs": 0}, token: "tok", text: "done: 2 steps",
			notes: `progress ["tok 1/2 step 1 of 2" "tok 2/2 step 2 of 2"], logs ["info progress step 1 of 2" "info progress step 2 of 2"]`},
		{tool: "progress", args: map[string]any{"steps": 1}, text: "done: 1 steps",
			notes: `progress [], logs ["info progress step 1 of 1"]`},
		{tool: "progress", args: map[string]any{"steps": 0}, isError: true, text: "at arguments/steps: minimum: "},
		{tool: "progress", args: map[string]any{"steps": catalog.MaxProgressSteps + 1}, isError: true, text: "at arguments/steps: maximum: "},
		{tool: "progress", args: map[string]any{"intervalMs": 10001}, isError: true, text: "at arguments/intervalMs: maximum: "},
		{tool: "progress", args: map[string]any{"steps": "three"}, isError: true, text: "at arguments/steps: type: "},
	} {
		t.Run(fmt.Sprintf("%s/%v", tc.tool, tc.args), func(t *testing.T) {
			cs, got := connect(t, c, "2025-11-25")
			tc.check(t, cs, got)
		})
	}
}

// TestProgressCancel checks that the progress tool stops when its request
// is cancelled (TestMain fails the package if it runs on).
func TestProgressCancel(t *testing.T) {
	c, _ := catalog.Lookup("default")
	cs, got := connect(t, c, "2025-11-25")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { // owner: this test; exit: the call is cancelled below
		params := &sdk.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": 100, "intervalMs": 10000}}
		params.SetProgressToken("c")
		_, err := cs.CallTool(ctx, params)
		done <- err
	}()
	testutil.WaitFor(t, 5*time.Second, func() error {
		if s := got.String(); !strings.Contains(s, "c 1/100") {
			return fmt.Errorf("no first progress yet: %s", s)
		}
		return nil
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("CallTool after cancel = %v, want context.Canceled", err)
	}
	if err := testutil.NoLeaks(5*time.Second, "catalog.progress"); err != nil {
		t.Errorf("the progress tool runs on after its request was cancelled: %v", err)
	}
}

// TestConformance checks a few tools, a resource template and a prompt of
// the conformance catalogue, with the payloads the suite's checks expect.
func TestConformance(t *testing.T) {
	c, err := catalog.Lookup("conformance")
	if err != nil {
		t.Fatal(err)
	}
	cs, got := connect(t, c, "2025-11-25")
	for _, tc := range []toolCase{
		{tool: "test_simple_text", text: "This is a simple text response for testing."},
		{tool: "test_error_handling", isError: true, text: "intentionally returns an error"},
		{tool: "test_tool_with_progress", token: "conf", text: "conf",
			notes: `progress ["conf 0/100 Completed step 0 of 100" "conf 50/100 Completed step 50 of 100" "conf 100/100 Completed step 100 of 100"], logs []`},
		{tool: "greet", args: map[string]any{"name": "Ada"}, text: "Hello, Ada!"},
		{tool: "json_schema_2020_12_tool", args: map[string]any{"name": "x", "email": "x@example.com"},
			text: `JSON Schema 2020-12 tool called with: {"email":"x@example.com","name":"x"}`},
		{tool: "typed_sum", args: map[string]any{"a": 2, "b": 40}, text: `{"sum":42}`},
		{tool: "typed_sum", args: map[string]any{"a": 2}, isError: true, text: `missing properties: ["b"]`},
	} {
		tc.check(t, cs, got)
	}

	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "test_image_content"})
	if err != nil || len(res.Content) != 1 {
		t.Fatalf("CallTool(test_image_content) = %v, %v", res, err)
	}
	if img, ok := res.Content[0].(*sdk.ImageContent); !ok || img.MIMEType != "image/png" || len(img.Data) == 0 {
		t.Errorf("CallTool(test_image_content) content = %#v, want a PNG image", res.Content[0])
	}

	rr, err := cs.ReadResource(context.Background(), &sdk.ReadResourceParams{URI: "test://template/42/data"})
	if err != nil || len(rr.Contents) != 1 {
		t.Fatalf("ReadResource(test://template/42/data) = %v, %v", rr, err)
	}
	if want := `{"data":"Data for ID: 42","id":"42","templateTest":true}`; rr.Contents[0].Text != want || rr.Contents[0].MIMEType != "application/json" {
		t.Errorf("ReadResource(test://template/42/data) = %s %q, want application/json %q", rr.Contents[0].MIMEType, rr.Contents[0].Text, want)
	}

	pr, err := cs.GetPrompt(context.Background(), &sdk.GetPromptParams{Name: "test_prompt_with_arguments", Arguments: map[string]string{"arg1": "a", "arg2": "b"}})
	if err != nil || len(pr.Messages) != 1 {
		t.Fatalf("GetPrompt(test_prompt_with_arguments) = %v, %v", pr, err)
	}
	if tc, ok := pr.Messages[0].Content.(*sdk.TextContent); !ok || tc.Text != "Prompt with arguments: arg1='a', arg2='b'" {
		t.Errorf("GetPrompt(test_prompt_with_arguments) message = %#v", pr.Messages[0].Content)
	}
}

// TestLoadTest checks the loadtest catalogue: the default tools, and
// broadcast, which returns empty content (what it logs goes to the GET
// streams; loadtest's TestGetKill follows it over three nodes).
func TestLoadTest(t *testing.T) {
	c, err := catalog.Lookup("loadtest")
	if err != nil {
		t.Fatal(err)
	}
	cs, got := connect(t, c, "2025-11-25")
	for _, tc := range []toolCase{
		{tool: "echo", args: map[string]any{"message": "still here"}, text: "still here"},
		{tool: "broadcast", args: map[string]any{"seq": 1}, text: "(0 contents)"},
		{tool: "broadcast", args: map[string]any{"seq": 1 << 40}, text: "(0 contents)"},
		{tool: "broadcast", args: map[string]any{}, isError: true, text: `required: missing properties: ["seq"]`},
		{tool: "broadcast", args: map[string]any{"seq": 0}, isError: true, text: "at arguments/seq: minimum: "},
		{tool: "broadcast", args: map[string]any{"seq": 1.5}, isError: true, text: "at arguments/seq: type: "},
	} {
		tc.check(t, cs, got)
	}
}

// TestLookup checks the names Lookup knows and its error for others.
func TestLookup(t *testing.T) {
	for _, name := range append([]string{""}, catalog.Names...) {
		c, err := catalog.Lookup(name)
		if err != nil || c.Register == nil || c.Options == nil {
			t.Errorf("Lookup(%q) = %+v, %v; want a catalogue", name, c, err)
		}
		if want := name; want != "" && c.Name != want {
			t.Errorf("Lookup(%q).Name = %q", name, c.Name)
		}
	}
	if _, err := catalog.Lookup("nope"); err == nil || !strings.Contains(err.Error(), "default, conformance, loadtest") {
		t.Errorf("Lookup(\"nope\") error = %v, want one that lists the names", err)
	}
}
