package bridge

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/sessions"
	"github.com/mcpfiber/mcpfiber/transport"
)

// childEnv selects the fake stdio server (see runFakeServer) when the test
// binary runs as a bridge child.
const childEnv = "MCPFIBER_BRIDGE_TEST_CHILD"

// TestMain runs the test binary as a fake stdio MCP server when asked to
// (the os/exec tests' helper-process pattern); otherwise it runs the tests
// and fails the run if a goroutine of the Bridge outlives them.
func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runFakeServer(mode))
	}
	testutil.Main(m, leakMarkers...)
}

var leakMarkers = []string{
	"bridge.(*child).readStdout",
	"bridge.(*child).readStderr",
	"bridge.(*child).wait",
	"bridge.(*child).terminate",
	"transport.(*Handler).writeSSE",
}

// fakeCommand returns the command that runs this test binary as a fake
// stdio server in mode.
func fakeCommand(t testing.TB, mode string) ([]string, []string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{exe, "-test.run=^$"}, []string{childEnv + "=" + mode}
}

// A testServer is a Bridge behind a transport.Handler on a loopback port.
type testServer struct {
	b    *Bridge
	h    *transport.Handler
	url  string
	logs *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (the logger).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer serves command through a Bridge on 127.0.0.1:0 and stops
// everything when the test ends.
func startServer(t testing.TB, command []string, opts *Options) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Logger = logger
	b, err := New(command, &o)
	if err != nil {
		t.Fatal(err)
	}
	h := transport.NewHandler(b, &transport.Options{Logger: logger, KeepAlive: -1})
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
		if err := h.Shutdown(ctx, 0); err != nil {
			t.Errorf("transport shutdown: %v", err)
		}
		<-appDone // fasthttp waits for a connection that has not finished a request until ctx ends
		<-served
		bctx, bcancel := context.WithTimeout(context.Background(), 10*time.Second) // the bridge's own bound
		defer bcancel()
		if err := b.Close(bctx); err != nil {
			t.Errorf("bridge close: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testServer{b: b, h: h, url: "http://" + ln.Addr().String() + "/mcp", logs: logs}
}

// pids returns the process IDs of the children of the live sessions.
func (ts *testServer) pids() []int {
	var out []int
	ts.h.Sessions().Range(func(s *sessions.Session) bool {
		out = append(out, s.Conn().(*child).pid)
		return true
	})
	return out
}

// waitLive waits until the Bridge has n live children.
func (ts *testServer) waitLive(t testing.TB, n int64) {
	t.Helper()
	waitFor(t, 10*time.Second, func() error {
		if got := ts.b.Stats().Live; got != n {
			return fmt.Errorf("live children = %d, want %d", got, n)
		}
		return nil
	})
}

// An httpResult is a raw HTTP exchange's outcome.
type httpResult struct {
	status int
	header http.Header
	body   string
}

// do sends one raw HTTP request to the MCP endpoint: the body (if any) as
// JSON, with the session ID (if any), and reads the whole response.
func (ts *testServer) do(t testing.TB, method, sid, body string) httpResult {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpResult{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// initialize starts a session with a raw initialize and returns its ID.
func (ts *testServer) initialize(t testing.TB) string {
	t.Helper()
	r := ts.do(t, http.MethodPost, "", initBody)
	sid := r.header.Get("Mcp-Session-Id")
	if r.status != http.StatusOK || sid == "" {
		t.Fatalf("initialize: %d %q (session %q)", r.status, r.body, sid)
	}
	if r := ts.do(t, http.MethodPost, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); r.status != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d %q", r.status, r.body)
	}
	return sid
}

// runFakeServer is a small stdio MCP server for the bridge's own tests.
// Tools: echo {message} (two progress notifications first when asked),
// sample (asks the client for sampling/createMessage and returns its
// text), hang (never answers), crash (exits 3), flood (answers, then
// writes notifications as fast as it can). Modes: "fake"; "old" answers
// initialize with 2024-11-05; "stubborn" ignores SIGTERM and its closed
// stdin.
func runFakeServer(mode string) int {
	if mode == "stubborn" {
		signal.Ignore(syscall.SIGTERM)
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	send := func(v any) {
		b, _ := json.Marshal(v)
		mu.Lock()
		out.Write(b)
		out.WriteByte('\n')
		out.Flush()
		mu.Unlock()
	}
	type msg struct {
		ID     json.RawMessage `json:"id,omitempty"`
		Method string          `json:"method,omitempty"`
		Params json.RawMessage `json:"params,omitempty"`
		Result json.RawMessage `json:"result,omitempty"`
	}
	result := func(id json.RawMessage, r any) {
		send(map[string]any{"jsonrpc": "2.0", "id": id, "result": r})
	}
	text := func(s string) map[string]any {
		return map[string]any{"content": []any{map[string]any{"type": "text", "text": s}}}
	}
	var sampleFor json.RawMessage // the tools/call waiting for a sampling answer
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var m msg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			fmt.Fprintln(os.Stderr, "fake: bad line:", err)
			continue
		}
		switch m.Method {
		case "initialize":
			var p struct {
				ProtocolVersion string `json:"protocolVersion"`
			}
			_ = json.Unmarshal(m.Params, &p)
			v := p.ProtocolVersion
			if mode == "old" {
				v = "2024-11-05"
			}
			// Like some real servers, say something before the result.
			send(map[string]any{"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
			result(m.ID, map[string]any{
				"protocolVersion": v,
				"capabilities":    map[string]any{"tools": map[string]any{"listChanged": true}},
				"serverInfo":      map[string]any{"name": "fake", "version": "1"},
			})
			fmt.Fprintln(os.Stderr, "fake: initialized")
		case "ping":
			result(m.ID, map[string]any{})
		case "tools/list":
			var tools []any
			for _, n := range []string{"echo", "sample", "hang", "crash", "flood", "noisy"} {
				tools = append(tools, map[string]any{"name": n, "inputSchema": map[string]any{"type": "object"}})
			}
			result(m.ID, map[string]any{"tools": tools})
		case "tools/call":
			var p struct {
				Name      string         `json:"name"`
				Arguments map[string]any `json:"arguments"`
				Meta      struct {
					ProgressToken json.RawMessage `json:"progressToken"`
				} `json:"_meta"`
			}
			_ = json.Unmarshal(m.Params, &p)
			switch p.Name {
			case "echo":
				if len(p.Meta.ProgressToken) > 0 {
					for i := 1; i <= 2; i++ {
						send(map[string]any{"jsonrpc": "2.0", "method": "notifications/progress",
							"params": map[string]any{"progressToken": p.Meta.ProgressToken, "progress": i, "total": 2}})
					}
				}
				fmt.Fprintln(os.Stderr, "fake: echo", p.Arguments["message"])
				result(m.ID, text(fmt.Sprint(p.Arguments["message"])))
			case "sample":
				sampleFor = m.ID
				send(map[string]any{"jsonrpc": "2.0", "id": "fake-sample-1", "method": "sampling/createMessage",
					"params": map[string]any{"messages": []any{map[string]any{"role": "user",
						"content": map[string]any{"type": "text", "text": "hello"}}}, "maxTokens": 10}})
			case "noisy": // 500 junk lines on stdout and 500 lines on stderr, then the result
				for i := range 500 {
					mu.Lock()
					fmt.Fprintf(out, "junk %d\n", i)
					mu.Unlock()
					fmt.Fprintf(os.Stderr, "noise %d\n", i)
				}
				mu.Lock()
				out.Flush()
				mu.Unlock()
				result(m.ID, text("quiet now"))
			case "hang":
			case "crash":
				os.Exit(3)
			case "flood":
				result(m.ID, text("flooding"))
				go func() {
					for i := 0; ; i++ {
						send(map[string]any{"jsonrpc": "2.0", "method": "notifications/message",
							"params": map[string]any{"level": "info", "data": i}})
					}
				}()
			default:
				send(map[string]any{"jsonrpc": "2.0", "id": m.ID, "error": map[string]any{"code": -32602, "message": "Unknown tool: " + p.Name}})
			}
		case "":
			if string(m.ID) == `"fake-sample-1"` && sampleFor != nil { // the client's sampling answer
				var r struct {
					Content struct {
						Text string `json:"text"`
					} `json:"content"`
				}
				_ = json.Unmarshal(m.Result, &r)
				result(sampleFor, text("sampled: "+r.Content.Text))
				sampleFor = nil
			}
		default:
			if len(m.ID) > 0 {
				send(map[string]any{"jsonrpc": "2.0", "id": m.ID, "error": map[string]any{"code": -32601, "message": "Method not found"}})
			}
		}
	}
	if mode == "stubborn" {
		for {
			time.Sleep(time.Hour) // until SIGKILL
		}
	}
	return 0
}

// waitFor is testutil.WaitFor, by its short name.
var waitFor = testutil.WaitFor
