// Package conformance_test drives the mcpfiber server (with the
// conformance catalogue) with official MCP clients: the Go SDK here, the
// TypeScript SDK in interop_ts_test.go.
//
//lint:file-ignore SA1019 sampling is deprecated from 2026-07-28 on; the 2025-11-25 session here uses it on purpose.
package conformance_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpfiber/mcpfiber/catalog"
	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/redisstore"
	"github.com/mcpfiber/mcpfiber/server"
)

// startServer runs the binary's server with the conformance catalogue on
// 127.0.0.1:0, its sessions in store if that is not nil (the server owns
// it then: Shutdown closes it); Cleanup shuts it down.
func startServer(t *testing.T, store *redisstore.Store) *server.Server {
	t.Helper()
	srv := server.New(server.Config{
		Addr:         "127.0.0.1:0",
		Catalog:      "conformance",
		KeepAlive:    -1,
		DrainWindow:  time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		SessionStore: store,
	})
	if err := srv.Listen(); err != nil {
		if store != nil {
			store.Close()
		}
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

// startNodes runs n servers as startServer does. One node keeps its
// sessions in memory; several share them through a redis-server of the
// test's own (testutil.StartRedis), each with a [redisstore.Store] of its
// own, as separate processes would. The redis-server stops after the
// servers (Cleanup runs last-in first-out).
func startNodes(t *testing.T, n int) []*server.Server {
	t.Helper()
	if n == 1 {
		return []*server.Server{startServer(t, nil)}
	}
	r := testutil.StartRedis(t)
	nodes := make([]*server.Server, n)
	for i := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := redisstore.New(ctx, r.URL(), nil)
		cancel()
		if err != nil {
			t.Fatalf("node %d: redisstore.New: %v", i, err)
		}
		nodes[i] = startServer(t, st)
	}
	return nodes
}

// topologies are the server setups every interop test runs against.
var topologies = []struct {
	name  string
	nodes int
	nginx bool // the client talks to a real nginx in front of the nodes (round robin), not to them
}{
	{"nodes=1", 1, false},       // sessions in memory
	{"nodes=2-redis", 2, false}, // sessions in Redis, requests alternating between the nodes
	{"nodes=3-redis-nginx", 3, true},
}

// startTopology starts the nodes of a topology and, for one behind nginx,
// the nginx (testutil.StartNginx); ngx is nil otherwise.
func startTopology(t *testing.T, nodes int, nginx bool) ([]*server.Server, *testutil.Nginx) {
	t.Helper()
	ns := startNodes(t, nodes)
	if !nginx {
		return ns, nil
	}
	var addrs []string
	for _, n := range ns {
		addrs = append(addrs, n.Addr().String())
	}
	return ns, testutil.StartNginx(t, addrs)
}

// A roundRobin is an http.RoundTripper that sends each request (POST, GET
// and DELETE alike) to the next node in turn, as a load balancer without
// session affinity would, and records which node got what.
type roundRobin struct {
	base  *http.Transport
	hosts []string // host:port of each node

	mu     sync.Mutex // guards the fields below
	next   int
	routes []route
}

// A route is one request that went to one of several nodes.
type route struct {
	Node   int    `json:"node"`
	Method string `json:"method"` // HTTP method
	RPC    string `json:"rpc"`    // a POST's JSON-RPC method, or "result" for a response
}

// rpcKind returns what the JSON-RPC message body is: its method, "result"
// for a response, or "" for anything else.
func rpcKind(body []byte) string {
	var m struct {
		Method string          `json:"method"`
		Result json.RawMessage `json:"result"`
	}
	switch {
	case json.Unmarshal(body, &m) != nil:
		return ""
	case m.Method != "":
		return m.Method
	case m.Result != nil:
		return "result"
	}
	return ""
}

// crossed counts the client's answers to server requests (POSTs of a
// JSON-RPC result) sent to another node than the tools/call before them:
// the server relays those between the nodes.
func crossed(routes []route) int {
	n, call := 0, -1
	for _, r := range routes {
		switch r.RPC {
		case "tools/call":
			call = r.Node
		case "result":
			if call >= 0 && r.Node != call {
				n++
			}
		}
	}
	return n
}

func newRoundRobin(nodes []*server.Server) *roundRobin {
	rr := &roundRobin{base: &http.Transport{}}
	for _, n := range nodes {
		rr.hosts = append(rr.hosts, n.Addr().String())
	}
	return rr
}

func (rr *roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	rr.mu.Lock()
	node := rr.next
	rr.next = (rr.next + 1) % len(rr.hosts)
	rr.routes = append(rr.routes, route{Node: node, Method: req.Method, RPC: rpcKind(body)})
	rr.mu.Unlock()
	out := req.Clone(req.Context()) // a RoundTripper must not modify req
	out.URL.Host, out.Host = rr.hosts[node], rr.hosts[node]
	if body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
	}
	return rr.base.RoundTrip(out)
}

// CloseIdleConnections closes the idle connections to every node.
func (rr *roundRobin) CloseIdleConnections() {
	rr.base.CloseIdleConnections()
}

// list returns the requests sent so far.
func (rr *roundRobin) list() []route {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return slices.Clone(rr.routes)
}

// String lists the requests in the order they were sent, one a line.
func (rr *roundRobin) String() string {
	var b strings.Builder
	for _, r := range rr.list() {
		fmt.Fprintf(&b, "node %d %s %s\n", r.Node, r.Method, r.RPC)
	}
	return b.String()
}

// sessionsOn returns the number of sessions held on the nodes, together.
func sessionsOn(nodes []*server.Server) int {
	n := 0
	for _, s := range nodes {
		n += s.Handler().Sessions().Len()
	}
	return n
}

// heldBy returns the nodes that hold session id.
func heldBy(nodes []*server.Server, id string) []int {
	var on []int
	for i, s := range nodes {
		if s.Handler().Sessions().Lookup(id) != nil {
			on = append(on, i)
		}
	}
	return on
}

// postStatus POSTs a 2025-11-25 tools/list in session id to url and
// returns the status.
func postStatus(t *testing.T, url, id string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", id)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// typedSchemas returns the input and output schemas jsonschema-go infers
// for the typed tool typed_sum (catalog.SumArgs, catalog.SumResult): what
// its tools/list entry must carry.
func typedSchemas(t *testing.T) (in, out map[string]any) {
	t.Helper()
	for _, x := range []struct {
		dst *map[string]any
		s   func() (*jsonschema.Schema, error)
	}{
		{&in, func() (*jsonschema.Schema, error) { return jsonschema.For[catalog.SumArgs](nil) }},
		{&out, func() (*jsonschema.Schema, error) { return jsonschema.For[catalog.SumResult](nil) }},
	} {
		s, err := x.s()
		if err != nil {
			t.Fatal(err)
		}
		*x.dst = asMap(t, s)
	}
	return in, out
}

// asMap returns v as a JSON object decoded into a map.
func asMap(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

// checkTypedTool lists the typed tool typed_sum with the Go SDK client,
// checks its inferred schemas, calls it, and checks its structured content
// and the text copy of it.
func checkTypedTool(t *testing.T, ctx context.Context, cs *sdk.ClientSession) {
	t.Helper()
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	i := slices.IndexFunc(tools.Tools, func(tl *sdk.Tool) bool { return tl.Name == "typed_sum" })
	if i < 0 {
		t.Fatalf("no typed_sum among %d tools", len(tools.Tools))
	}
	wantIn, wantOut := typedSchemas(t)
	if got := asMap(t, tools.Tools[i].InputSchema); !reflect.DeepEqual(got, wantIn) {
		t.Errorf("typed_sum inputSchema = %v, want %v", got, wantIn)
	}
	if got := asMap(t, tools.Tools[i].OutputSchema); !reflect.DeepEqual(got, wantOut) {
		t.Errorf("typed_sum outputSchema = %v, want %v", got, wantOut)
	}
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "typed_sum", Arguments: map[string]any{"a": 2, "b": 40}})
	if err != nil || res.IsError {
		t.Fatalf("CallTool(typed_sum) = %v, %v", res, err)
	}
	if got := asMap(t, res.StructuredContent); !reflect.DeepEqual(got, map[string]any{"sum": float64(42)}) {
		t.Errorf("typed_sum structuredContent = %v, want {sum: 42}", got)
	}
	var copied map[string]any
	if err := json.Unmarshal([]byte(firstText(t, res)), &copied); err != nil || !reflect.DeepEqual(copied, asMap(t, res.StructuredContent)) {
		t.Errorf("typed_sum text %q is not a copy of structuredContent %v (%v)", firstText(t, res), res.StructuredContent, err)
	}
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
// stream, DELETE at the end). Both eras list and call the typed tool
// typed_sum. It runs against one node, and against two nodes on Redis with
// the client's requests alternating between them (issue #10): then a
// client's answer to an elicitation or a sampling request may reach the
// other node than the call, which relays it (transport/relay.go), and a
// 2026-07-28 requestState sealed by one node is opened by the other.
func TestInteropGoSDKBothEras(t *testing.T) {
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) {
			nodes, ngx := startTopology(t, top.nodes, top.nginx)
			interopGoSDK(t, nodes, ngx)
		})
	}
}

// interopGoSDK runs the Go SDK client against nodes, directly (its
// requests alternating between them) or through ngx when it is not nil.
func interopGoSDK(t *testing.T, nodes []*server.Server, ngx *testutil.Nginx) {
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
	rr := newRoundRobin(nodes)
	if ngx != nil {
		rr.hosts = []string{ngx.Addr()} // nginx balances; rr only records
	}
	httpClient := &http.Client{Transport: rr}
	defer httpClient.CloseIdleConnections()
	defer func() {
		if t.Failed() && len(nodes) > 1 {
			t.Logf("requests by node:\n%s", rr)
		}
	}()
	connect := func(version string) *sdk.ClientSession {
		t.Helper()
		cs, err := client.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: nodes[0].URL(), HTTPClient: httpClient},
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
		if n := sessionsOn(nodes); n != 0 {
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
		testutil.WaitFor(t, 5*time.Second, func() error {
			mu.Lock()
			defer mu.Unlock()
			if len(progress) < 3 {
				return fmt.Errorf("%d progress notifications handled, want 3", len(progress))
			}
			return nil
		})
		res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "test_input_required_result_elicitation"})
		if err != nil || firstText(t, res) != "Hello, Alice!" {
			t.Fatalf("input-required tool: %v %v", res, err)
		}
		res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "test_input_required_result_multi_round"})
		if err != nil || firstText(t, res) != "Multi-round complete: Alice likes blue" {
			t.Fatalf("multi-round tool: %v %v", res, err)
		}
		rres, err := cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "test://static-text"})
		if err != nil || len(rres.Contents) != 1 || rres.Contents[0].Text == "" {
			t.Fatalf("ReadResource: %v %v", rres, err)
		}
		if _, err := cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "test://nope"}); err == nil {
			t.Errorf("reading an unknown resource succeeded")
		}
		checkTypedTool(t, ctx, cs)
	})

	t.Run("2025-11-25", func(t *testing.T) {
		cs := connect("2025-11-25")
		if v := cs.InitializeResult().ProtocolVersion; v != "2025-11-25" {
			t.Fatalf("negotiated %q, want 2025-11-25", v)
		}
		if on := heldBy(nodes, cs.ID()); len(on) == 0 {
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
		checkTypedTool(t, ctx, cs)
		switch {
		case ngx != nil:
			if on := heldBy(nodes, cs.ID()); len(on) < 2 {
				t.Errorf("session held on nodes %v behind nginx, want several: nginx balances each request", on)
			}
			if ups := ngx.Upstreams(); len(ups) != len(nodes) {
				t.Errorf("nginx sent requests to %v, want each of the %d nodes", ups, len(nodes))
			}
		case len(nodes) > 1:
			if on := heldBy(nodes, cs.ID()); len(on) != len(nodes) {
				t.Errorf("session held on nodes %v, want every node: requests alternate", on)
			}
			if n := crossed(rr.list()); n == 0 {
				t.Errorf("no answer to a server request reached another node than its call: the relay went untested")
			}
		}
		id := cs.ID()
		if err := cs.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		// DELETE ended the session on every node at once.
		for i, n := range nodes {
			if code := postStatus(t, n.URL(), id); code != http.StatusNotFound {
				t.Errorf("node %d: POST in the deleted session: status %d, want 404", i, code)
			}
		}
		testutil.WaitFor(t, 5*time.Second, func() error {
			if on := heldBy(nodes, id); len(on) != 0 {
				return fmt.Errorf("session %s still live on nodes %v after the client closed it", id, on)
			}
			return nil
		})
	})
	mu.Lock()
	defer mu.Unlock()
	if len(elicited) < 3 {
		t.Errorf("elicitations %q, want at least 3", elicited)
	}
}
