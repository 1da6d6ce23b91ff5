package gosdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// startSDKHandler serves s with the SDK's own StreamableHTTPHandler on
// net/http at 127.0.0.1:0, defaults except the logger.
func startSDKHandler(b testing.TB, s *sdk.Server, jsonResponse bool) string {
	b.Helper()
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, &sdk.StreamableHTTPOptions{
		JSONResponse: jsonResponse,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			b.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String() + "/mcp"
}

// connectWith opens an SDK client session over hc (one pool per
// benchmark, so that both servers see the same client).
func connectWith(b testing.TB, url string, hc *http.Client) *sdk.ClientSession {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := sdk.NewClient(&sdk.Implementation{Name: "bench", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: url, HTTPClient: hc, MaxRetries: -1, DisableStandaloneSSE: true},
		&sdk.ClientSessionOptions{ProtocolVersion: "2025-11-25"}) // sessions on both servers, no 2026-07-28 discovery
	if err != nil {
		b.Fatalf("connect: %v", err)
	}
	if v := cs.InitializeResult().ProtocolVersion; v != "2025-11-25" {
		b.Fatalf("negotiated %q, want 2025-11-25", v)
	}
	b.Cleanup(func() { cs.Close() })
	return cs
}

// BenchmarkCallTool compares one SDK-built server (tool echo) served by
// this adapter on mcpfiber's transport with the same server on the SDK's
// StreamableHTTPHandler (net/http), both with their defaults (mcpfiber
// answers a call that sends nothing first with application/json; the SDK
// answers with an SSE stream) and with the SDK forced to JSON. The SDK
// client calls the tool over loopback HTTP from one session or from 8
// concurrent sessions, at protocol version 2025-11-25 (sessions) on both.
// Allocations count the client's too.
//
//	go test ./gosdk -run='^$' -bench=BenchmarkCallTool -benchmem -benchtime=3000x -count=5
func BenchmarkCallTool(b *testing.B) {
	for _, handler := range []string{"mcpfiber", "sdk", "sdk-json"} {
		for _, clients := range []int{1, 8} {
			b.Run(fmt.Sprintf("handler=%s/clients=%d", handler, clients), func(b *testing.B) {
				benchmarkCallTool(b, handler, clients)
			})
		}
	}
}

func benchmarkCallTool(b *testing.B, handler string, clients int) {
	s := newSDKServer()
	var url string
	switch handler {
	case "mcpfiber":
		url, _ = serve(b, New(s, nil))
	case "sdk":
		url = startSDKHandler(b, s, false)
	case "sdk-json":
		url = startSDKHandler(b, s, true)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	sessions := make(chan *sdk.ClientSession, clients)
	for range clients {
		sessions <- connectWith(b, url, hc)
	}
	params := &sdk.CallToolParams{Name: "echo", Arguments: echoArgs{Message: "hello"}}
	var failed, next atomic.Int64
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients { // exactly one goroutine per session, sharing b.N calls
		wg.Add(1)
		go func(cs *sdk.ClientSession) {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if _, err := cs.CallTool(ctx, params); err != nil {
					failed.Add(1)
				}
			}
		}(<-sessions)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
	b.ReportMetric(float64(failed.Load()), "failed")
}
