package mcp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

func legacyServer(t *testing.T, opts *mcp.ServerOptions) *env {
	return start(t, opts, func(s *mcp.Server) {
		s.AddTool(&mcp.Tool{Name: "elicit", Description: "asks a name", InputSchema: objectSchema},
			func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				res, err := req.Elicit(ctx, &mcp.ElicitParams{Message: "name?", RequestedSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}}}`)})
				if err != nil {
					return nil, err
				}
				return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(fmt.Sprintf("%s %v", res.Action, res.Content["name"]))}}, nil
			})
		s.AddTool(&mcp.Tool{Name: "sample", Description: "samples", InputSchema: objectSchema},
			func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				res, err := req.CreateMessage(ctx, &mcp.CreateMessageParams{
					Messages: []*mcp.SamplingMessage{{Role: "user", Content: mcp.TextContent("hi")}}, MaxTokens: 10})
				if err != nil {
					return nil, err
				}
				return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(res.Model + ": " + res.Content.Text)}}, nil
			})
		s.AddTool(&mcp.Tool{Name: "mrtr", Description: "returns input requests", InputSchema: objectSchema},
			func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				c, ok := req.Params.InputResponses.Accepted("who")
				roots, okRoots := req.Params.InputResponses.ListRoots("roots")
				if ok && okRoots {
					return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(fmt.Sprintf("%v %d %s", c["name"], len(roots.Roots), req.Params.RequestState))}}, nil
				}
				return &mcp.CallToolResult{
					InputRequests: mcp.InputRequests{
						"who":   mcp.ElicitInput(&mcp.ElicitParams{Message: "name?", RequestedSchema: json.RawMessage(`{"type":"object"}`)}),
						"roots": mcp.RootsInput(),
					},
					RequestState: "s1",
				}, nil
			})
		s.AddTool(&mcp.Tool{Name: "log", Description: "logs at each level", InputSchema: objectSchema},
			func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				for _, l := range []mcp.LoggingLevel{mcp.LevelDebug, mcp.LevelInfo, mcp.LevelError} {
					_ = req.Log(l, "", string(l))
				}
				return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("ok")}}, nil
			})
		s.AddPrompt(&mcp.Prompt{Name: "greet", Description: "greets", Arguments: []*mcp.PromptArgument{{Name: "who", Required: true}}},
			func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
				return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: mcp.TextContent("hello " + req.Params.Arguments["who"])}}}, nil
			})
		s.AddResource(&mcp.Resource{URI: "test://a", Name: "a"}, func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Blob: []byte{1, 2, 3}}}}, nil
		})
		s.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: "test://items/{id}", Name: "item"},
			func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				if strings.HasSuffix(req.Params.URI, "/missing") {
					return nil, mcp.ResourceNotFoundError(req.Params.URI)
				}
				return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "item"}}}, nil
			})
	})
}

const allCaps = `{"elicitation":{},"sampling":{},"roots":{"listChanged":true}}`

// answerRequests reads ch until the response, answering every request the
// server sends with answer(method) in a POST of its own (which must get
// 202), and returns the response and the methods asked.
func answerRequests(t *testing.T, s *session, ch <-chan *msg, answer func(method string) string) (*msg, []string) {
	t.Helper()
	var asked []string
	for {
		m := next(t, ch)
		if m.isResponse() {
			return m, asked
		}
		if !m.isRequest() {
			continue
		}
		asked = append(asked, m.Method)
		r := s.post(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":%s}`, m.ID, answer(m.Method)))
		if r.status != http.StatusAccepted {
			t.Fatalf("POST of the answer to %s: status %d, want 202", m.Method, r.status)
		}
	}
}

func answers(method string) string {
	switch method {
	case "elicitation/create":
		return `{"action":"accept","content":{"name":"Ada"}}`
	case "sampling/createMessage":
		return `{"role":"assistant","content":{"type":"text","text":"hello"},"model":"m1","stopReason":"endTurn"}`
	case "roots/list":
		return `{"roots":[{"uri":"file:///a","name":"a"},{"uri":"file:///b"}]}`
	}
	return `{}`
}

// TestServerRequests checks server-to-client requests in a session: sent
// on the tool call's SSE stream, answered by a separate POST (202), routed
// to the waiting handler by id.
func TestServerRequests(t *testing.T) {
	e := legacyServer(t, nil)
	s := e.initialize(mcp.Version20251125, allCaps)
	for _, tc := range []struct{ tool, want, asked string }{
		{"elicit", "accept Ada", "elicitation/create"},
		{"sample", "m1: hello", "sampling/createMessage"},
	} {
		ch, done := s.call("tools/call", map[string]any{"name": tc.tool})
		resp, asked := answerRequests(t, s, ch, answers)
		done()
		if got := textOf(t, resp.Result); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.tool, got, tc.want)
		}
		if len(asked) != 1 || asked[0] != tc.asked {
			t.Errorf("%s: asked %v", tc.tool, asked)
		}
	}
}

// TestServerRequestsConcurrent runs several calls that each wait for the
// client at once: every answer reaches its own handler.
func TestServerRequestsConcurrent(t *testing.T) {
	e := legacyServer(t, nil)
	s := e.initialize(mcp.Version20251125, allCaps)
	const n = 4
	type pending struct {
		ch   <-chan *msg
		done func()
		req  *msg
	}
	calls := make([]pending, n)
	for i := range calls {
		calls[i].ch, calls[i].done = s.call("tools/call", map[string]any{"name": "elicit"})
		calls[i].req = next(t, calls[i].ch)
		if calls[i].req.Method != "elicitation/create" {
			t.Fatalf("call %d: %s", i, calls[i].req.Method)
		}
	}
	// Answer in reverse order, each with its own name.
	for i := n - 1; i >= 0; i-- {
		r := s.post(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"action":"accept","content":{"name":"n%d"}}}`, calls[i].req.ID, i))
		if r.status != http.StatusAccepted {
			t.Fatalf("answer %d: status %d", i, r.status)
		}
	}
	for i := range calls {
		resp := next(t, calls[i].ch)
		calls[i].done()
		if got := textOf(t, resp.Result); got != fmt.Sprintf("accept n%d", i) {
			t.Errorf("call %d: %q", i, got)
		}
	}
}

// TestServerRequestCapabilities checks that the server never asks a
// client for what it did not declare: the handler gets an error at once
// and nothing is sent.
func TestServerRequestCapabilities(t *testing.T) {
	e := legacyServer(t, nil)
	s := e.initialize(mcp.Version20251125, `{}`)
	for _, tool := range []string{"elicit", "sample", "mrtr"} {
		ch, done := s.call("tools/call", map[string]any{"name": tool})
		m := next(t, ch)
		done()
		if m.isRequest() {
			t.Fatalf("%s: the server sent %s to a client that did not declare it", tool, m.Method)
		}
		switch {
		case m.Error != nil:
			if m.Error.Code != mcp.CodeMissingRequiredClientCapability {
				t.Errorf("%s: error %d %s", tool, m.Error.Code, m.Error.Message)
			}
		default:
			t.Errorf("%s: result %s, want a -32021 error", tool, m.Result)
		}
	}
	// Elicitation came in 2025-06-18: a 2025-03-26 session is never asked.
	old := e.initialize(mcp.Version20250326, allCaps)
	ch, done := old.call("tools/call", map[string]any{"name": "elicit"})
	defer done()
	if m := next(t, ch); m.isRequest() || m.Error == nil {
		t.Errorf("2025-03-26 session: %v", m)
	}
}

// TestServerRequestTimeout checks ClientRequestTimeout: an unanswered
// request fails the handler, and the client is told with
// notifications/cancelled; a late answer is dropped (202, no effect).
func TestServerRequestTimeout(t *testing.T) {
	e := legacyServer(t, &mcp.ServerOptions{ClientRequestTimeout: 200 * time.Millisecond})
	s := e.initialize(mcp.Version20251125, allCaps)
	ch, done := s.call("tools/call", map[string]any{"name": "elicit"})
	defer done()
	req := next(t, ch)
	if req.Method != "elicitation/create" {
		t.Fatalf("first message %s", req.Method)
	}
	cancelled := next(t, ch)
	if cancelled.Method != "notifications/cancelled" || !strings.Contains(string(cancelled.Params), `"requestId":`+string(req.ID)) {
		t.Fatalf("after the timeout: %s %s", cancelled.Method, cancelled.Params)
	}
	resp := next(t, ch)
	if !resp.isResponse() || !strings.Contains(string(resp.Result), `"isError":true`) || !strings.Contains(string(resp.Result), "did not answer in time") {
		t.Fatalf("response %s %v", resp.Result, resp.Error)
	}
	if r := s.post(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"action":"accept"}}`, req.ID)); r.status != http.StatusAccepted {
		t.Errorf("late answer: status %d", r.status)
	}
}

// TestInputRequestsInSession checks that a handler returning input
// requests works for a session client: the server asks the client itself
// and calls the handler again with the answers and its state.
func TestInputRequestsInSession(t *testing.T) {
	e := legacyServer(t, nil)
	s := e.initialize(mcp.Version20251125, allCaps)
	ch, done := s.call("tools/call", map[string]any{"name": "mrtr"})
	defer done()
	resp, asked := answerRequests(t, s, ch, answers)
	if got := textOf(t, resp.Result); got != "Ada 2 s1" {
		t.Errorf("result %q, want \"Ada 2 s1\"", got)
	}
	if len(asked) != 2 {
		t.Errorf("asked %v, want elicitation and roots", asked)
	}
}

// TestListChangedAndSubscriptions checks notifications on the GET stream:
// list_changed after AddTool/AddPrompt/AddResource, and
// resources/updated for subscribed URIs only, until unsubscribed.
func TestListChangedAndSubscriptions(t *testing.T) {
	e := legacyServer(t, nil)
	s := e.initialize(mcp.Version20251125, allCaps)
	ch, done := s.get()
	defer done()
	if r := s.post(`{"jsonrpc":"2.0","id":1,"method":"resources/subscribe","params":{"uri":"test://a"}}`); r.final(t).Error != nil {
		t.Fatalf("subscribe: %v", r.final(t).Error)
	}
	noop := func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return nil, nil }
	e.srv.AddTool(&mcp.Tool{Name: "new", InputSchema: objectSchema}, noop)
	e.srv.ResourceUpdated("test://other")
	e.srv.ResourceUpdated("test://a")
	e.srv.RemoveTools("new")
	want := []string{"notifications/tools/list_changed", "notifications/resources/updated", "notifications/tools/list_changed"}
	for _, w := range want {
		if m := next(t, ch); m.Method != w {
			t.Fatalf("GET stream: %s %s, want %s", m.Method, m.Params, w)
		} else if w == "notifications/resources/updated" && !strings.Contains(string(m.Params), "test://a") {
			t.Fatalf("updated %s", m.Params)
		}
	}
	s.post(`{"jsonrpc":"2.0","id":2,"method":"resources/unsubscribe","params":{"uri":"test://a"}}`)
	e.srv.ResourceUpdated("test://a")
	e.srv.AddPrompt(&mcp.Prompt{Name: "x"}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) { return nil, nil })
	if m := next(t, ch); m.Method != "notifications/prompts/list_changed" {
		t.Fatalf("after unsubscribe: %s %s", m.Method, m.Params)
	}
}

// TestLegacyMethods checks the other 2025 methods: logging levels,
// prompts with required arguments, resources and templates, and the
// revision-dependent resource-not-found code.
func TestLegacyMethods(t *testing.T) {
	e := legacyServer(t, nil)
	s := e.initialize(mcp.Version20251125, allCaps)

	s.post(`{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"info"}}`)
	r := s.post(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"log"}}`)
	var levels []string
	for _, m := range r.msgs {
		if m.Method == "notifications/message" {
			var p mcp.LoggingMessageParams
			_ = json.Unmarshal(m.Params, &p)
			levels = append(levels, string(p.Level))
		}
	}
	if strings.Join(levels, ",") != "info,error" {
		t.Errorf("log levels sent at info: %v", levels)
	}
	if r := s.post(`{"jsonrpc":"2.0","id":3,"method":"logging/setLevel","params":{"level":"loud"}}`); r.errCode(t) != jsonrpc.CodeInvalidParams {
		t.Errorf("bad level accepted")
	}

	if r := s.post(`{"jsonrpc":"2.0","id":4,"method":"prompts/get","params":{"name":"greet"}}`); r.errCode(t) != jsonrpc.CodeInvalidParams {
		t.Errorf("missing required argument accepted")
	}
	var pr mcp.GetPromptResult
	s.post(`{"jsonrpc":"2.0","id":5,"method":"prompts/get","params":{"name":"greet","arguments":{"who":"Ada"}}}`).result(t, &pr)
	if len(pr.Messages) != 1 || pr.Messages[0].Content.Text != "hello Ada" {
		t.Errorf("prompt %+v", pr)
	}

	var rr struct {
		Contents []map[string]any `json:"contents"`
	}
	s.post(`{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"test://a"}}`).result(t, &rr)
	if len(rr.Contents) != 1 || rr.Contents[0]["blob"] != "AQID" {
		t.Errorf("blob resource %v", rr.Contents)
	}
	s.post(`{"jsonrpc":"2.0","id":7,"method":"resources/read","params":{"uri":"test://items/42"}}`).result(t, &rr)
	if rr.Contents[0]["text"] != "item" {
		t.Errorf("template resource %v", rr.Contents)
	}
	for uri, code := range map[string]int64{"test://items/missing": mcp.CodeResourceNotFound, "test://nowhere": mcp.CodeResourceNotFound, "test://items/a/b": mcp.CodeResourceNotFound} {
		r := s.post(fmt.Sprintf(`{"jsonrpc":"2.0","id":8,"method":"resources/read","params":{"uri":%q}}`, uri))
		if got := r.errCode(t); got != code || !strings.Contains(string(r.final(t).Error.Data), uri) {
			t.Errorf("%s: code %d data %s, want %d with the uri", uri, got, r.final(t).Error.Data, code)
		}
	}
	// At 2026-07-28 the same miss is -32602.
	if r := e.modern("resources/read", map[string]any{"uri": "test://items/missing"}, nil, nil); r.errCode(t) != jsonrpc.CodeInvalidParams {
		t.Errorf("2026-07-28 not found: %d", r.errCode(t))
	}
	// Without a completion handler, completion/complete is not there.
	if r := s.post(`{"jsonrpc":"2.0","id":9,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"greet"},"argument":{"name":"who","value":""}}}`); r.errCode(t) != jsonrpc.CodeMethodNotFound {
		t.Errorf("completion without a handler: %d", r.errCode(t))
	}
	// server/discover is 2026-07-28 only.
	if r := s.post(`{"jsonrpc":"2.0","id":10,"method":"server/discover"}`); r.errCode(t) != jsonrpc.CodeMethodNotFound {
		t.Errorf("server/discover in a session: %d", r.errCode(t))
	}
}

// TestCancelWhileAsking checks that notifications/cancelled ends a tool
// call that waits on the client: no response, and the handler returns.
func TestCancelWhileAsking(t *testing.T) {
	var ended atomic.Bool
	e := start(t, nil, func(s *mcp.Server) {
		s.AddTool(&mcp.Tool{Name: "wait", InputSchema: objectSchema}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			_, err := req.Elicit(ctx, &mcp.ElicitParams{Message: "?"})
			ended.Store(errors.Is(err, context.Canceled))
			return nil, err
		})
	})
	s := e.initialize(mcp.Version20251125, allCaps)
	ch, done := s.call("tools/call", map[string]any{"name": "wait"})
	defer done()
	req := next(t, ch)
	id := e.nextID
	s.post(fmt.Sprintf(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":%d}}`, id))
	testutil.WaitFor(t, 5*time.Second, func() error {
		if !ended.Load() {
			return errors.New("the handler did not see the cancellation")
		}
		return nil
	})
	for m := range ch {
		if m.isResponse() {
			t.Fatalf("a response to a cancelled request: %v", m)
		}
	}
	_ = req
}

// TestSessionRequests checks requests the server sends outside any client
// request: on the GET stream, answered by a POST, routed by id.
func TestSessionRequests(t *testing.T) {
	var got atomic.Pointer[mcp.SessionState]
	e := start(t, nil, func(s *mcp.Server) {
		s.AddTool(&mcp.Tool{Name: "remember", InputSchema: objectSchema}, func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			got.Store(req.Session)
			return &mcp.CallToolResult{}, nil
		})
	})
	s := e.initialize(mcp.Version20251125, allCaps)
	get, done := s.get()
	defer done()
	s.post(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"remember"}}`)
	st := got.Load()
	roots := make(chan *mcp.ListRootsResult, 1)
	go func() { // owner: the test; exit: the answer arrives or the timeout
		res, err := st.ListRoots(context.Background())
		if err != nil {
			t.Errorf("ListRoots: %v", err)
		}
		roots <- res
	}()
	req := next(t, get)
	if req.Method != "roots/list" {
		t.Fatalf("GET stream: %s", req.Method)
	}
	if r := s.post(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":%s}`, req.ID, answers("roots/list"))); r.status != http.StatusAccepted {
		t.Fatalf("answer: %d", r.status)
	}
	if res := <-roots; res == nil || len(res.Roots) != 2 {
		t.Errorf("roots %v", res)
	}
	if err := st.Log(mcp.LevelInfo, "", "hello"); err != nil {
		t.Fatal(err)
	}
	if m := next(t, get); m.Method != "notifications/message" {
		t.Errorf("GET stream: %s", m.Method)
	}
}

// TestParamNamesExact checks that params member names are matched exactly
// (GHSA-wvj2-96wp-fq3f): a case variant of a name is an unknown member,
// not the name, and a name given twice is refused.
func TestParamNamesExact(t *testing.T) {
	e := legacyServer(t, nil)
	s := e.initialize(mcp.Version20251125, allCaps)

	var pr mcp.GetPromptResult
	s.post(`{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"greet","Name":"other","arguments":{"who":"Ada"},"ARGUMENTS":{"who":"Eve"}}}`).result(t, &pr)
	if len(pr.Messages) != 1 || pr.Messages[0].Content.Text != "hello Ada" {
		t.Errorf("prompts/get with case variants: %+v, want greet for Ada", pr)
	}
	if r := s.post(`{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"NAME":"greet","arguments":{"who":"Ada"}}}`); r.errCode(t) != jsonrpc.CodeInvalidParams {
		t.Errorf("prompts/get with only NAME: code %d, want %d", r.errCode(t), jsonrpc.CodeInvalidParams)
	}
	var rr struct {
		Contents []map[string]any `json:"contents"`
	}
	s.post(`{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"test://a","URI":"test://items/42"}}`).result(t, &rr)
	if len(rr.Contents) != 1 || rr.Contents[0]["blob"] != "AQID" {
		t.Errorf("resources/read with a case variant: %v, want test://a", rr.Contents)
	}
	if r := s.post(`{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"test://a","uri":"test://items/42"}}`); r.errCode(t) != jsonrpc.CodeInvalidRequest {
		t.Errorf("resources/read naming uri twice: code %d, want %d", r.errCode(t), jsonrpc.CodeInvalidRequest)
	}
}

// TestLogAll checks server-wide log messages: notifications/message on
// the GET stream of each session whose logging/setLevel filter passes
// the level, the same through NotifyAll (another process's LogAll), and
// OnNotifyAll called with what was sent.
func TestLogAll(t *testing.T) {
	var (
		mu   sync.Mutex
		sent []string
	)
	e := legacyServer(t, &mcp.ServerOptions{OnNotifyAll: func(method string, params json.RawMessage) {
		if method == mcp.NotificationMessage { // not the list_changed of the setup
			mu.Lock()
			sent = append(sent, method+" "+string(params))
			mu.Unlock()
		}
	}})
	s := e.initialize(mcp.Version20251125, allCaps)
	ch, done := s.get()
	defer done()
	s.post(`{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"warning"}}`)
	if err := e.srv.LogAll(mcp.LevelInfo, "x", 1); err != nil { // filtered out
		t.Fatal(err)
	}
	if err := e.srv.LogAll(mcp.LevelError, "x", map[string]int{"seq": 2}); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.LogAll("loud", "x", 3); err == nil {
		t.Error("LogAll with an unknown level: no error")
	}
	e.srv.NotifyAll(mcp.NotificationMessage, json.RawMessage(`{"level":"debug","data":4}`)) // filtered out
	e.srv.NotifyAll(mcp.NotificationMessage, json.RawMessage(`{"level":"nope","data":5}`))  // ignored
	e.srv.NotifyAll(mcp.NotificationMessage, json.RawMessage(`{"level":"alert","data":6}`))
	for _, want := range []string{`"level":"error","logger":"x","data":{"seq":2}`, `"level":"alert","data":6`} {
		m := next(t, ch)
		if m.Method != mcp.NotificationMessage || !strings.Contains(string(m.Params), want) {
			t.Fatalf("GET stream: %s %s, want %s", m.Method, m.Params, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{
		`notifications/message {"level":"info","logger":"x","data":1}`,
		`notifications/message {"level":"error","logger":"x","data":{"seq":2}}`,
	}; !slices.Equal(sent, want) {
		t.Errorf("OnNotifyAll got %q, want %q", sent, want)
	}
}
