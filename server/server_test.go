package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfiber/mcpfiber/server"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// notifications collects what the Go SDK client's notification handlers
// receive.
type notifications struct {
	mu       sync.Mutex // guards the fields below
	progress []mcp.ProgressNotificationParams
	logs     []logMessage
}

// A logMessage is the part of a notifications/message the test checks.
type logMessage struct {
	Level, Logger string
	Data          any
}

func (n *notifications) counts() (progress, logs int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.progress), len(n.logs)
}

func (n *notifications) snapshot() ([]mcp.ProgressNotificationParams, []logMessage) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.progress), slices.Clone(n.logs)
}

// TestInteropGoSDK runs the official Go SDK client (go-sdk v1.8.0,
// StreamableClientTransport) against the real server on loopback, once per
// protocol version the client can ask for, and once with JSONResponse.
//
// The SDK's default, 2026-07-28 (stateless, no session), is covered by the
// stateless interop tests. 2024-11-05 is not served: the server answers
// with its latest, 2025-11-25, which the SDK accepts.
func TestInteropGoSDK(t *testing.T) {
	cases := []struct {
		name      string
		request   string // ClientSessionOptions.ProtocolVersion
		want      string // negotiated
		jsonReply bool
	}{
		{"version=2025-11-25", "2025-11-25", "2025-11-25", false},
		{"version=2025-06-18", "2025-06-18", "2025-06-18", false},
		{"version=2025-03-26", "2025-03-26", "2025-03-26", false},
		{"version=2024-11-05", "2024-11-05", "2025-11-25", false},
		{"version=2025-03-26/json", "2025-03-26", "2025-03-26", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			srv, _ := startServer(t, server.Config{JSONResponse: tc.jsonReply})
			interop(t, srv, tc.request, tc.want)
		})
	}
}

// interop connects the Go SDK client to srv at version request, expects
// version want, and runs two sessions: one the client uses and closes,
// one the server ends under it.
func interop(t *testing.T, srv *server.Server, request, want string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := newInteropClient(t, srv, request, want)

	cs := c.connect(ctx)
	if s := srv.Handler().Sessions().Lookup(cs.ID()); s == nil || s.ProtocolVersion() != want || srv.Handler().Sessions().Len() != 1 {
		t.Fatalf("server session for client ID %q: %v, want the only one, at %s", cs.ID(), s, want)
	}
	checkToolCalls(t, ctx, cs)
	checkProgress(t, ctx, cs, &c.got)
	checkClientClose(t, srv, cs, c.rec)
	if reqs := c.rec.Requests(); len(reqs) < 1 || reqs[0].RPC != "initialize" {
		t.Errorf("version %s: requests %v, want initialize first", request, reqs)
	}
	checkServerEnd(t, ctx, srv, c.connect(ctx), c.rec)
}

// An interopClient is a Go SDK client that records its requests and the
// notifications it gets.
type interopClient struct {
	t             *testing.T
	client        *mcp.Client
	rec           *recordingTransport
	url           string
	request, want string // protocol versions: asked for, expected
	got           notifications
}

func newInteropClient(t *testing.T, srv *server.Server, request, want string) *interopClient {
	c := &interopClient{t: t, rec: &recordingTransport{Base: newHTTPClient(t).Transport}, url: srv.URL(), request: request, want: want}
	c.client = mcp.NewClient(&mcp.Implementation{Name: "mcpfiber-interop", Version: "0"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			c.got.mu.Lock()
			c.got.progress = append(c.got.progress, *r.Params)
			c.got.mu.Unlock()
		},
		//lint:ignore SA1019 logging is deprecated from 2026-07-28 on; the revisions served here have it.
		LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
			c.got.mu.Lock()
			c.got.logs = append(c.got.logs, logMessage{string(r.Params.Level), r.Params.Logger, r.Params.Data})
			c.got.mu.Unlock()
		},
	})
	return c
}

// connect starts a session and checks the negotiated version.
func (c *interopClient) connect(ctx context.Context) *mcp.ClientSession {
	t := c.t
	t.Helper()
	cs, err := c.client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   c.url,
		HTTPClient: &http.Client{Transport: c.rec},
	}, &mcp.ClientSessionOptions{ProtocolVersion: c.request})
	if err != nil {
		t.Fatalf("Connect(%q): %v\nrequests: %v", c.request, err, c.rec.Requests())
	}
	if v := cs.InitializeResult().ProtocolVersion; v != c.want {
		t.Fatalf("negotiated protocol version = %q, want %q", v, c.want)
	}
	return cs
}

// checkToolCalls lists the tools and calls echo.
func checkToolCalls(t *testing.T, ctx context.Context, cs *mcp.ClientSession) {
	t.Helper()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"echo", "progress"}) {
		t.Errorf("ListTools names = %q, want [echo progress]", names)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hello, fiber"}})
	if err != nil {
		t.Fatalf("CallTool(echo): %v", err)
	}
	if res.IsError || len(res.Content) != 1 || textOf(res.Content[0]) != "hello, fiber" {
		t.Errorf("CallTool(echo) = %+v, want one text content %q", res, "hello, fiber")
	}
}

// checkProgress calls progress with a progressToken (the SDK sends one
// when the params carry it in _meta) and checks its result and the
// progress and log notifications got collected, in order.
func checkProgress(t *testing.T, ctx context.Context, cs *mcp.ClientSession, got *notifications) {
	t.Helper()
	const steps = 4
	params := &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": steps, "intervalMs": 5}}
	params.SetProgressToken("tok-1")
	res, err := cs.CallTool(ctx, params)
	if err != nil {
		t.Fatalf("CallTool(progress): %v", err)
	}
	if want := fmt.Sprintf("done: %d steps", steps); res.IsError || len(res.Content) != 1 || textOf(res.Content[0]) != want {
		t.Errorf("CallTool(progress) = %+v, want one text content %q", res, want)
	}
	// With SSE the notifications come before the response on the POST's
	// stream; with JSONResponse they come on the GET stream, unordered with
	// the response. The SDK runs notification handlers in arrival order.
	waitFor(t, 5*time.Second, func() error {
		if p, l := got.counts(); p < steps || l < steps {
			return fmt.Errorf("got %d progress and %d log notifications, want %d each", p, l, steps)
		}
		return nil
	})
	progress, logs := got.snapshot()
	if len(progress) != steps || len(logs) != steps {
		t.Errorf("got %d progress and %d log notifications, want %d each", len(progress), len(logs), steps)
	}
	for i, p := range progress {
		if p.ProgressToken != "tok-1" || p.Progress != float64(i+1) || p.Total != steps {
			t.Errorf("progress notification %d = token %v, %v/%v, want tok-1, %d/%d", i, p.ProgressToken, p.Progress, p.Total, i+1, steps)
		}
	}
	for i, l := range logs {
		if want := fmt.Sprintf("step %d of %d", i+1, steps); l.Level != "info" || l.Logger != "progress" || l.Data != want {
			t.Errorf("log notification %d = %s %s %v, want info progress %q", i, l.Level, l.Logger, l.Data, want)
		}
	}
}

// checkClientClose closes cs: the SDK sends DELETE, the server answers
// 204 (which the SDK ignores) and the session is gone.
func checkClientClose(t *testing.T, srv *server.Server, cs *mcp.ClientSession, rec *recordingTransport) {
	t.Helper()
	sid := cs.ID()
	if err := cs.Close(); err != nil {
		t.Errorf("ClientSession.Close: %v", err)
	}
	waitFor(t, 5*time.Second, func() error {
		if n := srv.Handler().Sessions().Len(); n != 0 {
			return fmt.Errorf("Sessions().Len() = %d after the client closed, want 0", n)
		}
		return nil
	})
	if !slices.ContainsFunc(rec.Requests(), func(r recordedRequest) bool {
		return r.Method == http.MethodDelete && r.SessionID == sid && r.Status == http.StatusNoContent
	}) {
		t.Errorf("no DELETE of session %s answered 204; requests: %v", sid, rec.Requests())
	}
}

// checkServerEnd ends cs's session on the server: the client's next call
// gets 404, which the SDK maps to ErrSessionMissing (the 404 body has
// "id":null, which it does not decode as a JSON-RPC response); it does not
// re-initialize, later calls fail without a request, and Close sends no
// DELETE. (The 404's body is pinned by the golden transcript
// lifecycle.txtar, exchange 09.)
func checkServerEnd(t *testing.T, ctx context.Context, srv *server.Server, cs *mcp.ClientSession, rec *recordingTransport) {
	t.Helper()
	defer cs.Close()
	sid := cs.ID()
	if s := srv.Handler().Sessions().Lookup(sid); s == nil || srv.Handler().Sessions().Len() != 1 || !s.End(sessions.EndClosed) {
		t.Fatalf("server session %s: %v, want the only one, live", sid, s)
	}
	sent := func(since int, match func(r recordedRequest) bool) bool {
		return slices.ContainsFunc(rec.Requests()[since:], match)
	}
	before := len(rec.Requests())
	_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "gone?"}})
	if !errors.Is(err, mcp.ErrSessionMissing) {
		t.Errorf("CallTool after the server ended the session: %v, want it to wrap mcp.ErrSessionMissing", err)
	}
	if !sent(before, func(r recordedRequest) bool {
		return r.Method == http.MethodPost && r.RPC == "tools/call" && r.SessionID == sid && r.Status == http.StatusNotFound
	}) {
		t.Errorf("no tools/call POST answered 404 for session %s; requests: %v", sid, rec.Requests()[before:])
	}
	if sent(before, func(r recordedRequest) bool { return r.RPC == "initialize" }) || srv.Handler().Sessions().Len() != 0 {
		t.Errorf("the SDK re-initialized on its own: %v", rec.Requests()[before:])
	}
	before = len(rec.Requests())
	if _, err := cs.ListTools(ctx, nil); err == nil {
		t.Error("ListTools after ErrSessionMissing: no error")
	}
	if err := cs.Close(); err != nil {
		t.Errorf("ClientSession.Close after ErrSessionMissing: %v", err)
	}
	if sent(before, func(r recordedRequest) bool { return r.Method == http.MethodPost || r.Method == http.MethodDelete }) {
		t.Errorf("ListTools and Close after ErrSessionMissing sent %v, want no POST and no DELETE", rec.Requests()[before:])
	}
}

func textOf(c mcp.Content) string {
	if tc, ok := c.(*mcp.TextContent); ok {
		return tc.Text
	}
	return fmt.Sprintf("(%T)", c)
}

// TestDeleteStatus records what DELETE answers, as the Go SDK sees it: 204
// for a live session, 404 afterwards and for unknown IDs.
func TestDeleteStatus(t *testing.T) {
	checkLeaks(t)
	srv, _ := startServer(t, server.Config{})
	hc := newHTTPClient(t)
	sid := rawInitialize(t, hc, srv.URL(), "2025-11-25")
	del := func() (int, string) {
		req, _ := http.NewRequest(http.MethodDelete, srv.URL(), nil)
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("DELETE: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := del(); code != http.StatusNoContent || body != "" {
		t.Errorf("DELETE live session = %d %q, want 204 and no body", code, body)
	}
	if n := srv.Handler().Sessions().Len(); n != 0 {
		t.Errorf("Sessions().Len() = %d after DELETE, want 0", n)
	}
	if code, _ := del(); code != http.StatusNotFound {
		t.Errorf("second DELETE = %d, want 404", code)
	}
}
