package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/bridge"
	"github.com/mcpfiber/mcpfiber/catalog"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/transport"
)

// serve starts an mcp.Server with the default catalog behind a Handler
// observed by m, with /metrics on the same app, on 127.0.0.1:0.
func serve(t *testing.T, m *Metrics) (base string) {
	t.Helper()
	srv := mcp.NewServer(mcp.Implementation{Name: "metrics-test", Version: "1"}, nil)
	catalog.Default(srv)
	h := transport.NewHandler(srv, &transport.Options{Observer: m, KeepAlive: -1})
	m.WatchHandler(h)
	app := transport.NewApp(h)
	mh := m.Handler()
	app.Get(Path, func(c *fiber.Ctx) error { mh(c.Context()); return nil })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Shutdown(ctx, 0)
		app.ShutdownWithContext(ctx)
		<-done
	})
	return "http://" + ln.Addr().String()
}

func post(t *testing.T, url, sid, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	code, _, body := do(t, req)
	return code, body
}

// wantLines fails the test unless every line is in the scrape.
func wantLines(t *testing.T, scrape string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(scrape, "\n"+l+"\n") {
			t.Errorf("scrape lacks %q", l)
		}
	}
	if t.Failed() {
		var ours []string
		for _, l := range strings.Split(scrape, "\n") {
			if strings.HasPrefix(l, "mcpfiber_") {
				ours = append(ours, l)
			}
		}
		t.Logf("mcpfiber_ lines:\n%s", strings.Join(ours, "\n"))
	}
}

// TestMetricsScrape drives a server over loopback HTTP (a session, a tool
// call, an unknown method, a 404, a 415, a DELETE) and checks what a
// scrape of /metrics reports.
func TestMetricsScrape(t *testing.T) {
	m := New(nil)
	base := serve(t, m)
	url := base + transport.DefaultPath

	code, hdr, body := post(t, url, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	sid := hdr.Get("Mcp-Session-Id")
	if code != http.StatusOK || sid == "" {
		t.Fatalf("initialize: %d %s", code, body)
	}
	post(t, url, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if code, _, body := post(t, url, sid, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}`); code != http.StatusOK {
		t.Fatalf("tools/call: %d %s", code, body)
	}
	post(t, url, sid, `{"jsonrpc":"2.0","id":3,"method":"no/such/method"}`)
	if code, _, _ := post(t, url, "0123456789abcdef0123456789abcdef", `{"jsonrpc":"2.0","id":4,"method":"ping"}`); code != http.StatusNotFound {
		t.Fatalf("unknown session: %d, want 404", code)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "text/plain")
	if code, _, _ := do(t, req); code != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain: %d, want 415", code)
	}

	code, scrape := get(t, base+Path)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	wantLines(t, scrape,
		"mcpfiber_sessions 1",
		"mcpfiber_sessions_started_total 1",
		`mcpfiber_requests_total{method="initialize",outcome="ok"} 1`,
		`mcpfiber_requests_total{method="tools/call",outcome="ok"} 1`,
		`mcpfiber_requests_total{method="other",outcome="error"} 1`,
		`mcpfiber_request_duration_seconds_count{method="tools/call"} 1`,
		`mcpfiber_http_refusals_total{reason="session_not_found",status="404"} 1`,
		`mcpfiber_http_refusals_total{reason="unsupported_media_type",status="415"} 1`,
		`mcpfiber_sse_streams{stream="standalone"} 0`,
	)
	if !strings.Contains(scrape, "go_goroutines ") || !strings.Contains(scrape, "process_cpu_seconds_total ") {
		t.Error("scrape lacks the Go runtime and process collectors")
	}

	req, _ = http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Mcp-Session-Id", sid)
	if code, _, _ := do(t, req); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", code)
	}
	_, scrape = get(t, base+Path)
	wantLines(t, scrape,
		"mcpfiber_sessions 0",
		`mcpfiber_sessions_ended_total{reason="delete"} 1`,
		`mcpfiber_sessions_ended_total{reason="closed"} 0`,
	)
}

// TestMetricsListener serves the metrics on a listener of their own, with
// the bridge's metrics and a custom reason for backend-ended sessions.
func TestMetricsListener(t *testing.T) {
	m := New(&Options{ClosedReason: "child_exit"})
	b, err := bridge.New([]string{"/nonexistent"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.WatchBridge(b)
	l, err := m.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	base := "http://" + l.Addr().String()
	code, scrape := get(t, base+Path)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	wantLines(t, scrape,
		"mcpfiber_bridge_children 0",
		"mcpfiber_bridge_children_started_total 0",
		`mcpfiber_bridge_children_exited_total{how="stopped"} 0`,
		`mcpfiber_sessions_ended_total{reason="child_exit"} 0`,
	)
	if code, _ := get(t, base+"/mcp"); code != http.StatusNotFound {
		t.Errorf("GET /mcp on the metrics listener: %d, want 404", code)
	}
}

// TestWatchListener checks the connection metrics of a ConnListener with
// a cap of one: one open, one refused, no accept error.
func TestWatchListener(t *testing.T) {
	m := New(nil)
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := transport.NewListener(tcp, &transport.ListenerOptions{MaxConnections: 1, WriteTimeout: -1})
	defer l.Close()
	m.WatchListener(l)
	accepted := make(chan net.Conn, 1)
	go func() { // owner: the test; exit: l closed
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	first, err := net.Dial("tcp", tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	c := <-accepted
	defer c.Close()
	second, err := net.Dial("tcp", tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_ = second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, _ := io.ReadAll(second); !strings.HasPrefix(string(b), "HTTP/1.1 503 ") {
		t.Fatalf("second connection got %q, want a 503", b)
	}
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI(Path)
	m.Handler()(&ctx)
	wantLines(t, string(ctx.Response.Body()),
		"mcpfiber_connections_open 1",
		"mcpfiber_connections_refused_total 1",
		"mcpfiber_accept_errors_total 0",
	)
}
