package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// connect opens a Go SDK client session against url.
func connect(t testing.TB, url string, opts *sdk.ClientOptions) *sdk.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sdk.NewClient(&sdk.Implementation{Name: "bridge-test", Version: "1"}, opts)
	cs, err := c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// sampler answers sampling/createMessage with "pong: <prompt>".
//
//lint:ignore SA1019 sampling is deprecated from 2026-07-28 on; the revisions the bridge serves have it.
func sampler(_ context.Context, req *sdk.CreateMessageRequest) (*sdk.CreateMessageResult, error) {
	prompt := ""
	if len(req.Params.Messages) > 0 {
		if tc, ok := req.Params.Messages[0].Content.(*sdk.TextContent); ok {
			prompt = tc.Text
		}
	}
	//lint:ignore SA1019 see above.
	return &sdk.CreateMessageResult{Content: &sdk.TextContent{Text: "pong: " + prompt}, Model: "test-model", Role: "assistant"}, nil
}

func textOf(t testing.TB, res *sdk.CallToolResult) string {
	t.Helper()
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// A progressLog records progress notifications by token.
type progressLog struct {
	mu  sync.Mutex
	got map[string][]float64
}

func (p *progressLog) handle(_ context.Context, req *sdk.ProgressNotificationClientRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.got == nil {
		p.got = make(map[string][]float64)
	}
	k := fmt.Sprint(req.Params.ProgressToken)
	p.got[k] = append(p.got[k], req.Params.Progress)
}

func (p *progressLog) of(token string) []float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]float64(nil), p.got[token]...)
}

// TestBridgeRoundTrip drives a fake stdio server through the bridge with
// the Go SDK client: tools/list, tools/call, progress on the POST stream,
// and a sampling request of the server's answered by the client.
func TestBridgeRoundTrip(t *testing.T) {
	cmd, env := fakeCommand(t, "fake")
	ts := startServer(t, cmd, &Options{Env: env})
	var progress progressLog
	//lint:ignore SA1019 sampling is deprecated from 2026-07-28 on; the revisions the bridge serves have it.
	cs := connect(t, ts.url, &sdk.ClientOptions{CreateMessageHandler: sampler, ProgressNotificationHandler: progress.handle})
	ctx := context.Background()

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	if len(tools.Tools) != 6 || tools.Tools[0].Name != "echo" {
		t.Fatalf("ListTools = %d tools, first %q; want the fake's 6, echo first", len(tools.Tools), tools.Tools[0].Name)
	}
	if got := cs.InitializeResult().ServerInfo.Name; got != "fake" {
		t.Errorf("serverInfo.name = %q, want the child's %q", got, "fake")
	}

	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "héllo"},
		Meta: sdk.Meta{"progressToken": "tok-1"}})
	if err != nil {
		t.Fatalf("CallTool echo: %v", err)
	}
	if got := textOf(t, res); got != "héllo" {
		t.Errorf("echo = %q, want %q", got, "héllo")
	}
	// Progress travels on the POST's SSE stream before the result; the
	// client may run its handler after CallTool returns.
	waitFor(t, 5*time.Second, func() error {
		if got := progress.of("tok-1"); len(got) != 2 || got[0] != 1 || got[1] != 2 {
			return fmt.Errorf("progress for tok-1 = %v, want [1 2]", got)
		}
		return nil
	})

	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "sample"})
	if err != nil {
		t.Fatalf("CallTool sample: %v", err)
	}
	if got, want := textOf(t, res), "sampled: pong: hello"; got != want {
		t.Errorf("sample = %q, want %q", got, want)
	}
	waitFor(t, 5*time.Second, func() error {
		for _, l := range strings.Split(ts.logs.String(), "\n") {
			if strings.Contains(l, `msg="stdio server stderr"`) && strings.Contains(l, `line="fake: echo héllo"`) &&
				strings.Contains(l, "session="+cs.ID()) {
				return nil
			}
		}
		return errors.New("the child's stderr line, tagged with the session, is not in the log")
	})
}

// TestBridgeIDsUntouched checks that JSON-RPC ids reach the child and come
// back byte for byte, strings and large integers alike.
func TestBridgeIDsUntouched(t *testing.T) {
	cmd, env := fakeCommand(t, "fake")
	ts := startServer(t, cmd, &Options{Env: env})
	sid := ts.initialize(t)
	for _, id := range []string{`"a/b\u00e9-Ω"`, `9007199254740993`, `-7`, `"0"`} {
		r := ts.do(t, http.MethodPost, sid, `{"jsonrpc":"2.0","id":`+id+`,"method":"ping"}`)
		if want := `{"jsonrpc":"2.0","result":{},"id":` + id + `}`; r.status != http.StatusOK || !jsonEqualish(r.body, want) {
			t.Errorf("ping with id %s: %d %s, want 200 with the id untouched (%s)", id, r.status, r.body, want)
		}
	}
}

// jsonEqualish reports whether got carries want's members: the child's
// encoding may order them differently, so compare the id bytes and result.
func jsonEqualish(got, want string) bool {
	i := strings.Index(want, `"id":`)
	return strings.Contains(got, want[i:len(want)-1]) && strings.Contains(got, `"result":{}`)
}

// TestBridgeChildCrash checks that a child that exits ends its session:
// the call in flight fails, the session ID gets 404, and the client starts
// over with a new child.
func TestBridgeChildCrash(t *testing.T) {
	cmd, env := fakeCommand(t, "fake")
	ts := startServer(t, cmd, &Options{Env: env})
	cs := connect(t, ts.url, nil)
	old := cs.ID()
	ts.waitLive(t, 1)

	if _, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "crash"}); err == nil {
		t.Fatal("CallTool crash: no error, want one (the child exited)")
	}
	ts.waitLive(t, 0)
	if r := ts.do(t, http.MethodPost, old, `{"jsonrpc":"2.0","id":2,"method":"ping"}`); r.status != http.StatusNotFound {
		t.Fatalf("POST to the crashed child's session: %d %s, want 404", r.status, r.body)
	}
	if _, err := cs.ListTools(context.Background(), nil); err == nil {
		t.Error("ListTools on the crashed session: no error, want one")
	}
	if got := ts.b.Stats().Exited; got != 1 {
		t.Errorf("Stats().Exited = %d, want 1", got)
	}

	cs2 := connect(t, ts.url, nil)
	if cs2.ID() == old {
		t.Fatal("the new session reused the old ID")
	}
	if _, err := cs2.ListTools(context.Background(), nil); err != nil {
		t.Fatalf("ListTools after re-initialize: %v", err)
	}
	ts.waitLive(t, 1)
}

// TestBridgeMaxChildren checks the cap: 503 with Retry-After past it,
// before any process starts, and room again once a session ends.
func TestBridgeMaxChildren(t *testing.T) {
	cmd, env := fakeCommand(t, "fake")
	ts := startServer(t, cmd, &Options{Env: env, MaxChildren: 1})
	sid := ts.initialize(t)
	r := ts.do(t, http.MethodPost, "", initBody)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, `"id":1`) {
		t.Fatalf("initialize past MaxChildren: %d Retry-After=%q %s, want 503 with Retry-After and a JSON-RPC error for id 1",
			r.status, r.header.Get("Retry-After"), r.body)
	}
	if got := ts.b.Stats(); got.Started != 1 || got.Refused != 1 {
		t.Errorf("Stats() = %+v, want 1 started and 1 refused", got)
	}
	if r := ts.do(t, http.MethodDelete, sid, ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	ts.waitLive(t, 0)
	if got := ts.b.Stats().Stopped; got != 1 {
		t.Errorf("Stats().Stopped = %d after DELETE, want 1", got)
	}
	ts.initialize(t)
}

// TestBridgeIsolation runs a child that floods stdout and one that never
// answers next to a healthy session, which keeps answering at once; then
// ends both bad sessions, and their children go.
func TestBridgeIsolation(t *testing.T) {
	cmd, env := fakeCommand(t, "fake")
	ts := startServer(t, cmd, &Options{Env: env, StopTimeout: 200 * time.Millisecond})
	ctx := context.Background()

	flooder := connect(t, ts.url, nil)
	if _, err := flooder.CallTool(ctx, &sdk.CallToolParams{Name: "flood"}); err != nil {
		t.Fatalf("CallTool flood: %v", err)
	}
	hanger := connect(t, ts.url, nil)
	hung := make(chan error, 1)
	go func() {
		_, err := hanger.CallTool(ctx, &sdk.CallToolParams{Name: "hang"})
		hung <- err
	}()

	healthy := connect(t, ts.url, nil)
	for i := range 20 {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := healthy.CallTool(cctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"message": i}})
		cancel()
		if err != nil {
			t.Fatalf("healthy echo %d next to a flooding and a hung child: %v", i, err)
		}
		if got := textOf(t, res); got != fmt.Sprint(i) {
			t.Fatalf("healthy echo %d = %q", i, got)
		}
	}

	ts.waitLive(t, 3)
	for _, cs := range []*sdk.ClientSession{flooder, hanger} {
		if r := ts.do(t, http.MethodDelete, cs.ID(), ""); r.status != http.StatusNoContent {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
	}
	select {
	case err := <-hung:
		if err == nil {
			t.Error("the hung call returned no error after its session ended")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the hung call did not return after its session ended")
	}
	ts.waitLive(t, 1)
}

// TestBridgeStopEscalates checks that a child that ignores its closed
// stdin and SIGTERM is killed.
func TestBridgeStopEscalates(t *testing.T) {
	cmd, env := fakeCommand(t, "stubborn")
	ts := startServer(t, cmd, &Options{Env: env, StopTimeout: 100 * time.Millisecond})
	sid := ts.initialize(t)
	if r := ts.do(t, http.MethodDelete, sid, ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	ts.waitLive(t, 0)
	if !strings.Contains(ts.logs.String(), "sending SIGKILL") {
		t.Error("no SIGKILL logged for a child that ignored SIGTERM")
	}
}

// TestBridgeUnsupportedVersion checks that a child answering a revision
// the transport does not serve gives an initialize error and no session.
func TestBridgeUnsupportedVersion(t *testing.T) {
	cmd, env := fakeCommand(t, "old")
	ts := startServer(t, cmd, &Options{Env: env})
	r := ts.do(t, http.MethodPost, "", initBody)
	if r.status != http.StatusOK || r.header.Get("Mcp-Session-Id") != "" || !strings.Contains(r.body, `"code":-32603`) ||
		!strings.Contains(r.body, "2024-11-05") {
		t.Fatalf("initialize: %d session=%q %s, want a -32603 error naming 2024-11-05 and no session", r.status, r.header.Get("Mcp-Session-Id"), r.body)
	}
	ts.waitLive(t, 0)
}

// TestBridgeStartFailure checks a command that cannot start.
func TestBridgeStartFailure(t *testing.T) {
	ts := startServer(t, []string{"/nonexistent/mcp-server"}, nil)
	r := ts.do(t, http.MethodPost, "", initBody)
	if r.status != http.StatusOK || !strings.Contains(r.body, `"code":-32603`) {
		t.Fatalf("initialize: %d %s, want a -32603 error", r.status, r.body)
	}
	if got := ts.b.Stats(); got.Failed != 1 || got.Live != 0 {
		t.Errorf("Stats() = %+v, want 1 failed, 0 live", got)
	}
}

// TestBridgeClose checks that Close stops every child and refuses new
// sessions.
func TestBridgeClose(t *testing.T) {
	cmd, env := fakeCommand(t, "fake")
	ts := startServer(t, cmd, &Options{Env: env})
	ts.initialize(t)
	ts.initialize(t)
	ts.waitLive(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.b.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := ts.b.Stats().Live; got != 0 {
		t.Errorf("live children after Close = %d, want 0", got)
	}
	if r := ts.do(t, http.MethodPost, "", initBody); r.status != http.StatusServiceUnavailable {
		t.Errorf("initialize after Close: %d %s, want 503", r.status, r.body)
	}
	if _, _, jerr := ts.b.Initialize([]byte(`{}`)); jerr == nil || jerr.Code != -32602 {
		t.Errorf("Initialize({}) = %v, want -32602", jerr)
	}
}

// TestBridgeLogLimits checks that a child writing junk to stdout and
// lines to stderr in bulk cannot flood the log: a few lines get through,
// the rest are counted.
func TestBridgeLogLimits(t *testing.T) {
	cmd, env := fakeCommand(t, "fake")
	ts := startServer(t, cmd, &Options{Env: env, StderrLinesPerSecond: 10})
	cs := connect(t, ts.url, nil)
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "noisy"})
	if err != nil {
		t.Fatalf("CallTool noisy: %v", err)
	}
	if got := textOf(t, res); got != "quiet now" {
		t.Fatalf("noisy = %q", got)
	}
	// What was held back is counted at the next line after its window, or
	// when the child exits: end the session.
	if r := ts.do(t, http.MethodDelete, cs.ID(), ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	ts.waitLive(t, 0)
	waitFor(t, 5*time.Second, func() error {
		logs := ts.logs.String()
		if n := strings.Count(logs, `line="noise `); n > 20 {
			return fmt.Errorf("%d stderr lines logged, want at most 2 windows of 10", n)
		}
		if n := strings.Count(logs, "a line that is not JSON-RPC"); n < 1 || n > 2 {
			return fmt.Errorf("%d junk lines logged, want 1 or 2", n)
		}
		if !strings.Contains(logs, "lines not logged") {
			return errors.New("no count of the stderr lines held back")
		}
		return nil
	})
}

func TestNewNoCommand(t *testing.T) {
	if _, err := New(nil, nil); err == nil {
		t.Error("New(nil) = nil error, want one")
	}
}

var _ mcp.Backend = (*Bridge)(nil)
