//go:build !race

package transport_test

import (
	"context"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/metrics"
	"github.com/mcpfiber/mcpfiber/transport"
)

// TestNotFoundAllocsObserved checks that the 404 path for an unknown
// session stays at zero allocations with Prometheus metrics on (a
// metrics.Metrics as the Observer), on POST, GET and DELETE, and that each
// 404 is counted.
func TestNotFoundAllocsObserved(t *testing.T) {
	m := metrics.New(nil)
	srv := mcp.NewServer(mcp.Implementation{Name: "alloc-test", Version: "1"}, nil)
	h := transport.NewHandler(srv, &transport.Options{Observer: m})
	t.Cleanup(func() { h.Shutdown(context.Background(), 0) })
	m.WatchHandler(h)
	app := transport.NewApp(h).Handler()

	const sid = "0123456789abcdef0123456789abcdef"
	cases := []struct {
		name, method, body string
		hdr                []string
	}{
		{"POST", fasthttp.MethodPost, `{"jsonrpc":"2.0","id":1,"method":"ping"}`,
			[]string{"Content-Type", "application/json", "Accept", "application/json, text/event-stream", "Mcp-Session-Id", sid, "MCP-Protocol-Version", "2025-11-25"}},
		{"GET", fasthttp.MethodGet, "", []string{"Accept", "text/event-stream", "Mcp-Session-Id", sid}},
		{"DELETE", fasthttp.MethodDelete, "", []string{"Mcp-Session-Id", sid}},
	}
	for _, c := range cases {
		for _, via := range []struct {
			name  string
			serve fasthttp.RequestHandler
		}{{"handler", h.ServeFastHTTP}, {"fiber", app}} {
			t.Run(via.name+"/"+c.name, func(t *testing.T) {
				ctx := &fasthttp.RequestCtx{}
				ctx.Request.Header.SetMethod(c.method)
				ctx.Request.SetRequestURI("/mcp")
				for i := 0; i < len(c.hdr); i += 2 {
					ctx.Request.Header.Set(c.hdr[i], c.hdr[i+1])
				}
				if c.body != "" {
					ctx.Request.SetBodyString(c.body)
				}
				via.serve(ctx) // warm up
				if got := ctx.Response.StatusCode(); got != fasthttp.StatusNotFound {
					t.Fatalf("status %d, want 404 (body %s)", got, ctx.Response.Body())
				}
				if n := testing.AllocsPerRun(100, func() { via.serve(ctx) }); n != 0 {
					t.Fatalf("404 path with metrics on: got %v allocs/op, want 0", n)
				}
			})
		}
	}

	scrape := &fasthttp.RequestCtx{}
	scrape.Request.SetRequestURI(metrics.Path)
	m.Handler()(scrape)
	body := string(scrape.Response.Body())
	// 6 cases × (1 warm-up + 1 + 100 runs of AllocsPerRun).
	const want = `mcpfiber_http_refusals_total{reason="session_not_found",status="404"} 612`
	if !strings.Contains(body, want) {
		t.Errorf("scrape does not count every 404: want a line %q in\n%s", want, grep(body, "mcpfiber_http_refusals_total"))
	}
}

// BenchmarkNotFoundObserved is BenchmarkNotFound's POST with Prometheus
// metrics on.
//
//	go test ./transport -run='^$' -bench=BenchmarkNotFoundObserved -benchmem -count=10
func BenchmarkNotFoundObserved(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "metrics=off", true: "metrics=on"}[on], func(b *testing.B) {
			opts := &transport.Options{}
			if on {
				opts.Observer = metrics.New(nil)
			}
			h := transport.NewHandler(mcp.NewServer(mcp.Implementation{Name: "bench", Version: "1"}, nil), opts)
			b.Cleanup(func() { h.Shutdown(context.Background(), 0) })
			ctx := &fasthttp.RequestCtx{}
			ctx.Request.Header.SetMethod(fasthttp.MethodPost)
			ctx.Request.SetRequestURI("/mcp")
			ctx.Request.Header.Set("Content-Type", "application/json")
			ctx.Request.Header.Set("Accept", "application/json, text/event-stream")
			ctx.Request.Header.Set("Mcp-Session-Id", "0123456789abcdef0123456789abcdef")
			ctx.Request.SetBodyString(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeFastHTTP(ctx)
			}
			if got := ctx.Response.StatusCode(); got != fasthttp.StatusNotFound {
				b.Fatalf("status = %d, want 404", got)
			}
		})
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
