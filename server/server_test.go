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

func (n *notifications) reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.progress, n.logs = nil, nil
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

func interop(t *testing.T, srv *server.Server, request, want string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var got notifications
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpfiber-interop", Version: "0"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			got.mu.Lock()
			got.progress = append(got.progress, *r.Params)
			got.mu.Unlock()
		},
		//lint:ignore SA1019 logging is deprecated from 2026-07-28 on; the revisions served here have it.
		LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
			got.mu.Lock()
			got.logs = append(got.logs, logMessage{string(r.Params.Level), r.Params.Logger, r.Params.Data})
			got.mu.Unlock()
		},
	})
	rec := &recordingTransport{Base: newHTTPClient(t).Transport}
	connect := func() *mcp.ClientSession {
		t.Helper()
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
			Endpoint:   srv.URL(),
			HTTPClient: &http.Client{Transport: rec},
		}, &mcp.ClientSessionOptions{ProtocolVersion: request})
		if err != nil {
			t.Fatalf("Connect(%q): %v\nrequests: %v", request, err, rec.Requests())
		}
		if v := cs.InitializeResult().ProtocolVersion; v != want {
			t.Fatalf("negotiated protocol version = %q, want %q", v, want)
		}
		return cs
	}

	// Session 1: list, echo, progress, then the client closes it.
	cs := connect()
	if n := srv.Handler().Sessions().Len(); n != 1 {
		t.Fatalf("after Connect: Sessions().Len() = %d, want 1", n)
	}
	if s := srv.Handler().Sessions().Lookup(cs.ID()); s == nil || s.ProtocolVersion() != want {
		t.Fatalf("server session for client ID %q: %v", cs.ID(), s)
	}

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

	// The SDK sends a progressToken when the params carry one in _meta.
	const steps = 4
	params := &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": steps, "intervalMs": 5}}
	params.SetProgressToken("tok-1")
	res, err = cs.CallTool(ctx, params)
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
		if i > 0 && p.Progress <= progress[i-1].Progress {
			t.Errorf("progress did not increase: %v after %v", p.Progress, progress[i-1].Progress)
		}
	}
	for i, l := range logs {
		if want := fmt.Sprintf("step %d of %d", i+1, steps); l.Level != "info" || l.Logger != "progress" || l.Data != want {
			t.Errorf("log notification %d = %s %s %v, want info progress %q", i, l.Level, l.Logger, l.Data, want)
		}
	}

	// Closing sends DELETE; the server answers 204, which the SDK accepts
	// (it ignores the DELETE's status altogether).
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

	t.Logf("Go SDK requests, session 1: %v", rec.Requests())
	if reqs := rec.Requests(); request == "" {
		// The SDK's default (2026-07-28) probes with server/discover, gets
		// 400 UnsupportedProtocolVersion, and falls back to initialize.
		if len(reqs) < 2 || reqs[0].RPC != "server/discover" || reqs[0].Status != http.StatusBadRequest || reqs[1].RPC != "initialize" {
			t.Errorf("default version: requests %v, want server/discover -> 400, then initialize", reqs)
		}
	} else if len(reqs) < 1 || reqs[0].RPC != "initialize" {
		t.Errorf("version %s: requests %v, want initialize first", request, reqs)
	}

	// Session 2: the server ends it. The client's next call fails.
	got.reset()
	cs2 := connect()
	defer cs2.Close()
	var ids []string
	srv.Handler().Sessions().Range(func(s *sessions.Session) bool {
		ids = append(ids, s.ID())
		return true
	})
	if len(ids) != 1 || ids[0] != cs2.ID() {
		t.Fatalf("server sessions = %q, want just the client's %q", ids, cs2.ID())
	}
	sid2 := ids[0]
	if !srv.Handler().Sessions().Lookup(sid2).End(sessions.EndClosed) {
		t.Fatal("Session.End: the session had already ended")
	}
	before := len(rec.Requests())
	_, err = cs2.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "gone?"}})
	if err == nil {
		t.Fatal("CallTool after the server ended the session: no error")
	}
	after := rec.Requests()[before:]
	t.Logf("Go SDK after the server ended the session: CallTool error %q (ErrSessionMissing: %v); requests since: %v",
		err, errors.Is(err, mcp.ErrSessionMissing), after)
	// The POST got 404; the SDK maps it to ErrSessionMissing (the 404 body
	// has "id":null, which it does not decode as a JSON-RPC response).
	if !errors.Is(err, mcp.ErrSessionMissing) {
		t.Errorf("CallTool error = %v, want it to wrap mcp.ErrSessionMissing", err)
	}
	if !slices.ContainsFunc(after, func(r recordedRequest) bool {
		return r.Method == http.MethodPost && r.RPC == "tools/call" && r.SessionID == sid2 && r.Status == http.StatusNotFound
	}) {
		t.Errorf("no tools/call POST answered 404 for session %s; requests: %v", sid2, after)
	}
	// It does not start a new session by itself: no initialize, and the
	// server has no session.
	if slices.ContainsFunc(after, func(r recordedRequest) bool { return r.RPC == "initialize" }) {
		t.Errorf("the SDK re-initialized on its own: %v", after)
	}
	if n := srv.Handler().Sessions().Len(); n != 0 {
		t.Errorf("Sessions().Len() = %d after the failed call, want 0 (no re-initialize)", n)
	}
	// The session stays broken: a second call fails too, without a request.
	before = len(rec.Requests())
	if _, err := cs2.ListTools(ctx, nil); err == nil {
		t.Error("ListTools after ErrSessionMissing: no error")
	}
	for _, r := range rec.Requests()[before:] {
		if r.Method == http.MethodPost {
			t.Errorf("ListTools after ErrSessionMissing sent %v, want no POST", r)
		}
	}

	// At HTTP level, a request naming the ended session gets 404 with the
	// JSON-RPC error body.
	resp := rawPOST(t, newHTTPClient(t), srv.URL(), sid2, want, `{"jsonrpc":"2.0","id":7,"method":"tools/list"}`)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	const wantBody = `{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}`
	if resp.StatusCode != http.StatusNotFound || string(body) != wantBody || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("POST with ended session: %d %q %s, want 404 application/json %s", resp.StatusCode, resp.Header.Get("Content-Type"), body, wantBody)
	}

	// Closing a session the SDK knows is missing sends no DELETE.
	before = len(rec.Requests())
	if err := cs2.Close(); err != nil {
		t.Errorf("ClientSession.Close after ErrSessionMissing: %v", err)
	}
	for _, r := range rec.Requests()[before:] {
		if r.Method == http.MethodDelete {
			t.Errorf("Close after ErrSessionMissing sent %v, want no DELETE", r)
		}
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
