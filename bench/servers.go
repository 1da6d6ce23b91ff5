// Package bench measures mcpfiber side by side with its peers, the
// official Go SDK (github.com/modelcontextprotocol/go-sdk,
// StreamableHTTPHandler) and mcp-go (github.com/mark3labs/mcp-go,
// StreamableHTTPServer), and two floors: bare fasthttp handlers that do
// the same HTTP work and nothing else (Floor answers 404; Floor200 answers
// a handshake and a tools/call with prebuilt JSON, see [Floor200]). It is a Go module of its own so that the peers stay out of
// mcpfiber's dependencies.
//
// Every server serves the same echo tool ({message: string} → the message
// as text) over real loopback HTTP, and every benchmark runs for each of
// them in the same run, named for benchstat (BenchmarkMiss/server=mcpfiber,
// …). The clients are those of package loadtest/load (a fasthttp client),
// the same for every server.
//
// Throughput benchmarks run the server in-process (so that allocs/op
// covers client and server). The reconnect storm and the memory figures
// run the server in a child process (this test binary, re-executed): a
// storm restarts it, and memory is measured in it alone (runtime.MemStats
// deltas read through a side endpoint).
//
// How each peer is configured, and why:
//
//   - mcp-go runs with WithStateful(true): its default session manager
//     checks only the shape of an ID and never answers 404, so without it
//     a stale session would look alive. Its GET with an unknown ID opens a
//     stream (no 404), and its DELETE of an unknown ID answers 200, so
//     BenchmarkMiss covers only POST for it. It answers a tools/call with
//     SSE only once the session has been sent a notification, so for
//     mode=sse each session is sent one first.
//   - The Go SDK answers SSE by default; mode=json uses JSONResponse.
//   - mcpfiber answers JSON when the client accepts it and the tool sends
//     nothing first; mode=sse sends Accept: text/event-stream.
//
// Run: make bench (writes RESULTS.md), or
//
//	go test -run '^$' -bench . -benchtime 2s
//	MCPFIBER_BENCH_FULL=1 go test -run '^$' -bench 'Storm|Memory' -benchtime 1x
//
// The pinned figures of issue #16 come from cmd/pinned (make
// bench-pinned): each server in a child process on CPU 0, the load on
// CPU 1, and the server's CPU per successful operation read from /proc
// beside the rate, against the floors Floor and Floor200 and the Go SDK.
//
// The session store benchmarks (BenchmarkStore…, store_test.go: mcpfiber
// with its sessions in memory and in Redis, issue #10) are not part of
// make bench; make bench-store runs them (the command is in
// store_test.go).
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	mcpgoserver "github.com/mark3labs/mcp-go/server"
	gosdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/loadtest/load"
	"github.com/mcpfiber/mcpfiber/redisstore"
	"github.com/mcpfiber/mcpfiber/server"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// Server names, as they appear in benchmark names (server=…).
const (
	Floor    = "floor"
	Floor200 = "floor200"
	MCPFiber = "mcpfiber"
	GoSDK    = "gosdk"
	MCPGo    = "mcpgo"
)

// Servers are the MCP servers compared, mcpfiber first.
var Servers = []string{MCPFiber, GoSDK, MCPGo}

// Call modes.
const (
	ModeJSON = "json"
	ModeSSE  = "sse"
)

// A Target is a running server under test.
type Target struct {
	Name string
	URL  string
	// Accept is the Accept header a tools/call sends in a mode.
	Accept func(mode string) string
	// Prepare readies a new session for a call mode (mcp-go, mode=sse).
	Prepare func(sid, mode string) error
	// Broadcast sends one notification to the GET stream of every
	// session and returns how many it sent to.
	Broadcast func(seq int) int
	// Close stops the server.
	Close func()
}

// Config says how to start a Target.
type Config struct {
	// Mode is the call mode the server is set up for ("" or ModeJSON or
	// ModeSSE): the Go SDK needs JSONResponse for JSON.
	Mode string
	// Addr is where to listen. Default: 127.0.0.1:0.
	Addr string
	// RedisURL, for mcpfiber only, keeps its sessions in the Redis at
	// that URL (server.Config.SessionStore, issue #10). Default: in
	// memory.
	RedisURL string
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const echoSchema = `{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}`

// Start starts the named server in this process.
func Start(name string, cfg Config) (*Target, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	switch name {
	case Floor:
		return startFloor(cfg)
	case Floor200:
		return startFloor200(cfg)
	case MCPFiber:
		return startMCPFiber(cfg)
	case GoSDK:
		return startGoSDK(cfg)
	case MCPGo:
		return startMCPGo(cfg)
	}
	return nil, fmt.Errorf("bench: unknown server %q", name)
}

func acceptBoth(string) string { return load.AcceptBoth }

// startFloor starts a bare fasthttp server whose handler only sets 404.
func startFloor(cfg Config) (*Target, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	s := &fasthttp.Server{
		Handler:               func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusNotFound) },
		NoDefaultServerHeader: true,
	}
	done := make(chan struct{})
	go func() { _ = s.Serve(ln); close(done) }() // owner: the Target; exit: Close
	return &Target{
		Name: Floor, URL: "http://" + ln.Addr().String() + "/mcp", Accept: acceptBoth,
		Close: func() { _ = s.Shutdown(); <-done },
	}, nil
}

// startFloor200 starts the floor of the 200 exchanges: a bare fasthttp
// handler that answers what a client of a session needs and does no MCP
// work. initialize gets a prebuilt result and a fixed Mcp-Session-Id; a
// notification gets 202; DELETE gets 200; any other POST gets the result
// of the echo tool with the request's id copied in (a byte scan, no JSON
// decoding). It is the floor of the handshake and of tools/call in
// cmd/pinned (issue #16).
func startFloor200(cfg Config) (*Target, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	s := &fasthttp.Server{Handler: floor200, NoDefaultServerHeader: true}
	done := make(chan struct{})
	go func() { _ = s.Serve(ln); close(done) }() // owner: the Target; exit: Close
	return &Target{
		Name: Floor200, URL: "http://" + ln.Addr().String() + "/mcp", Accept: acceptBoth,
		Close: func() { _ = s.Shutdown(); <-done },
	}, nil
}

var (
	floorSID        = []byte("00000000000000000000000000000000")
	floorCT         = []byte("application/json")
	floorIDKey      = []byte(`"id":`)
	floorInitMethod = []byte(`"method":"initialize"`)
	floorInitHead   = []byte(`{"jsonrpc":"2.0","id":`)
	floorInitTail   = []byte(`,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{"listChanged":true}},"serverInfo":{"name":"floor","version":"0.0.0"}}}`)
	floorCallTail   = []byte(`,"result":{"content":[{"type":"text","text":"hello"}],"isError":false}}`)
)

// floor200 is [Floor200]'s handler. It allocates nothing.
func floor200(ctx *fasthttp.RequestCtx) {
	if ctx.IsDelete() {
		return
	}
	body := ctx.PostBody()
	i := bytes.Index(body, floorIDKey)
	if i < 0 {
		ctx.SetStatusCode(fasthttp.StatusAccepted)
		return
	}
	id := body[i+len(floorIDKey):]
	n := 0
	for n < len(id) && (id[n] == '-' || id[n] >= '0' && id[n] <= '9') {
		n++
	}
	id = id[:n]
	tail := floorCallTail
	if bytes.Contains(body, floorInitMethod) {
		tail = floorInitTail
		ctx.Response.Header.SetBytesV("Mcp-Session-Id", floorSID)
	}
	ctx.Response.Header.SetContentTypeBytes(floorCT)
	ctx.Response.AppendBody(floorInitHead)
	ctx.Response.AppendBody(id)
	ctx.Response.AppendBody(tail)
}

func startMCPFiber(cfg Config) (*Target, error) {
	var store *redisstore.Store
	if cfg.RedisURL != "" {
		var err error
		if store, err = redisstore.New(context.Background(), cfg.RedisURL, nil); err != nil {
			return nil, err
		}
	}
	srv := server.New(server.Config{
		Addr:         cfg.Addr,
		Logger:       quiet,
		DrainWindow:  time.Millisecond,
		GracePeriod:  time.Second,
		SessionStore: store, // closed by srv.Shutdown
	})
	if err := srv.Listen(); err != nil {
		if store != nil {
			_ = store.Close()
		}
		return nil, err
	}
	done := make(chan struct{})
	go func() { _ = srv.Serve(); close(done) }() // owner: the Target; exit: Close
	return &Target{
		Name: MCPFiber, URL: srv.URL(),
		Accept: func(mode string) string {
			if mode == ModeSSE {
				return load.AcceptSSE
			}
			return load.AcceptBoth
		},
		Broadcast: func(seq int) int {
			msg := []byte(`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"tick ` + strconv.Itoa(seq) + `"}}`)
			n := 0
			srv.Handler().Sessions().Range(func(s *sessions.Session) bool {
				if c := s.Conn(); c != nil && c.State().Send(msg) == nil {
					n++
				}
				return true
			})
			return n
		},
		Close: func() { _ = srv.Shutdown(context.Background()); <-done },
	}, nil
}

func startGoSDK(cfg Config) (*Target, error) {
	s := gosdk.NewServer(&gosdk.Implementation{Name: "gosdk-bench", Version: "1.8.0"}, nil)
	s.AddTool(&gosdk.Tool{
		Name:        "echo",
		Description: "Returns the message it is given.",
		InputSchema: json.RawMessage(echoSchema),
	}, func(_ context.Context, req *gosdk.CallToolRequest) (*gosdk.CallToolResult, error) {
		var args struct {
			Message *string `json:"message"`
		}
		if err := json.Unmarshal(req.Params.Arguments, &args); err != nil || args.Message == nil {
			return nil, errors.New("echo: arguments must be an object with a string \"message\"")
		}
		return &gosdk.CallToolResult{Content: []gosdk.Content{&gosdk.TextContent{Text: *args.Message}}}, nil
	})
	h := gosdk.NewStreamableHTTPHandler(func(*http.Request) *gosdk.Server { return s },
		&gosdk.StreamableHTTPOptions{JSONResponse: cfg.Mode == ModeJSON})
	t, err := serveHTTP(GoSDK, cfg.Addr, h)
	if err != nil {
		return nil, err
	}
	t.Broadcast = func(seq int) int {
		n := 0
		for ss := range s.Sessions() {
			if ss.NotifyProgress(context.Background(), &gosdk.ProgressNotificationParams{ProgressToken: "bench", Progress: float64(seq)}) == nil {
				n++
			}
		}
		return n
	}
	return t, nil
}

func startMCPGo(cfg Config) (*Target, error) {
	s := mcpgoserver.NewMCPServer("mcpgo-bench", "1.2.1", mcpgoserver.WithToolCapabilities(false))
	s.AddTool(mcpgo.NewTool("echo",
		mcpgo.WithDescription("Returns the message it is given."),
		mcpgo.WithString("message", mcpgo.Required(), mcpgo.Description("The text to return.")),
	), func(_ context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		msg, err := req.RequireString("message")
		if err != nil {
			return nil, err
		}
		return mcpgo.NewToolResultText(msg), nil
	})
	h := mcpgoserver.NewStreamableHTTPServer(s, mcpgoserver.WithStateful(true))
	t, err := serveHTTP(MCPGo, cfg.Addr, h)
	if err != nil {
		return nil, err
	}
	t.Prepare = func(sid, mode string) error {
		if mode != ModeSSE {
			return nil
		}
		// mcp-go streams a response only in a session that has been sent
		// a notification; this one arrives in the first call's stream.
		return s.SendNotificationToSpecificClient(sid, "notifications/message", map[string]any{"level": "info", "data": "sse"})
	}
	t.Broadcast = func(seq int) int {
		s.SendNotificationToAllClients("notifications/message", map[string]any{"level": "info", "data": "tick " + strconv.Itoa(seq)})
		return -1 // mcp-go does not say how many it reached
	}
	return t, nil
}

// serveHTTP serves h with net/http on addr.
func serveHTTP(name, addr string, h http.Handler) (*Target, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: time.Minute, ErrorLog: nil}
	done := make(chan struct{})
	go func() { _ = hs.Serve(ln); close(done) }() // owner: the Target; exit: Close
	return &Target{
		Name: name, URL: "http://" + ln.Addr().String() + "/mcp", Accept: acceptBoth,
		Close: func() { _ = hs.Close(); <-done },
	}, nil
}

// MemStats is what the child's stats endpoint reports, after two GCs.
type MemStats struct {
	HeapAlloc  uint64 `json:"heap_alloc"`
	StackInuse uint64 `json:"stack_inuse"`
	Goroutines int    `json:"goroutines"`
}

// Live is the memory in use: live heap and goroutine stacks.
func (m MemStats) Live() int64 { return int64(m.HeapAlloc + m.StackInuse) }

// serveStats serves /memstats on addr until the process ends.
func serveStats(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/memstats", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_ = json.NewEncoder(w).Encode(MemStats{HeapAlloc: ms.HeapAlloc, StackInuse: ms.StackInuse, Goroutines: runtime.NumGoroutine()})
	})
	go func() { _ = http.Serve(ln, mux) }() // owner: the child process; exit: the process ends
	return nil
}
