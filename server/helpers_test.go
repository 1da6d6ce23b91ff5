package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/server"
)

// TestMain fails the package when goroutines of the server, the transport
// or the clients outlive the tests.
func TestMain(m *testing.M) { testutil.Main(m, leakPackages...) }

// leakPackages are the packages whose goroutines must not outlive a test:
// ours, the HTTP stacks on both sides, and the Go SDK client.
var leakPackages = []string{
	"github.com/mcpfiber/mcpfiber/",
	"github.com/valyala/fasthttp",
	"github.com/gofiber/fiber",
	"github.com/modelcontextprotocol/go-sdk",
	"net/http.(*persistConn)",
	"net/http.(*Transport)",
}

// checkLeaks fails t if goroutines of leakPackages are still alive 5s
// after its cleanups ran (see [testutil.Check]).
func checkLeaks(t *testing.T) {
	t.Helper()
	testutil.Check(t, leakPackages...)
}

// An sseEvent is one event of a text/event-stream body, as the
// WHATWG HTML §9.2 "event stream interpretation" reads it.
type sseEvent struct {
	ID       string // the id field, "" if absent
	HasID    bool
	Event    string // the event field, "" if absent
	Data     string // the data fields, joined with "\n"
	HasData  bool
	Retry    time.Duration // the retry field, in milliseconds on the wire
	HasRetry bool
	At       time.Time // when the event's blank line was read
}

// An sseReader reads events from an SSE body. Comment lines (": ...")
// are skipped; a block with at least one field is an event, even without
// data (priming events, retry-only events at drain).
type sseReader struct {
	r *bufio.Reader
}

func newSSEReader(r io.Reader) *sseReader { return &sseReader{r: bufio.NewReader(r)} }

// Next returns the next event. At the end of the body it returns io.EOF
// (a final event not closed by a blank line is dropped, as the spec says).
func (r *sseReader) Next() (sseEvent, error) {
	var ev sseEvent
	var data []string
	fields := 0
	for {
		line, err := r.r.ReadString('\n')
		if err != nil {
			if err == io.EOF && line != "" {
				err = io.ErrUnexpectedEOF
			}
			return sseEvent{}, err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if fields == 0 {
				continue
			}
			ev.Data = strings.Join(data, "\n")
			ev.At = time.Now()
			return ev, nil
		}
		if line[0] == ':' {
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		fields++
		switch name {
		case "id":
			ev.ID, ev.HasID = value, true
		case "event":
			ev.Event = value
		case "data":
			data = append(data, value)
			ev.HasData = true
		case "retry":
			ms, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return sseEvent{}, fmt.Errorf("sse: bad retry field %q", value)
			}
			ev.Retry, ev.HasRetry = time.Duration(ms)*time.Millisecond, true
		default:
			return sseEvent{}, fmt.Errorf("sse: unknown field %q", name)
		}
	}
}

// testLogger discards the server's logs; set MCPFIBER_TEST_LOG=1 to see
// them on stderr.
func testLogger() *slog.Logger {
	if os.Getenv("MCPFIBER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// A serving is the outcome of a server's Serve, which runs in a goroutine.
type serving struct {
	done chan struct{} // closed when Serve returned
	err  error         // what Serve returned; read after done
}

// wait returns Serve's result, or fails t if Serve has not returned within
// timeout.
func (s *serving) wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-s.done:
		return s.err
	case <-time.After(timeout):
		t.Fatalf("Serve did not return within %v", timeout)
		return nil
	}
}

// startServer starts a server.Server on 127.0.0.1:0 with cfg (Addr,
// Logger and, when zero, a 50ms DrainWindow filled in) and serves it in a
// goroutine. The cleanup shuts it down, unless the test did, and checks
// that Serve returned nil.
func startServer(t *testing.T, cfg server.Config) (*server.Server, *serving) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	return startServerOn(t, cfg, (*server.Server).Listen)
}

// inBubble runs f in a synctest bubble, where time is fake and passes
// only while every goroutine of the bubble waits, so that a test can
// assert exact timings; synctest.Test also fails if a goroutine of the
// bubble outlives f and its cleanups.
func inBubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	// fasthttp starts its Date-header updater, a goroutine that runs for
	// the life of the process, on first use: start it outside the bubbles.
	var warm fasthttp.ResponseHeader
	warm.AppendBytes(nil)
	synctest.Test(t, f)
}

// startBubbleServer is startServer inside a synctest bubble (inBubble),
// on an in-memory listener (server.Server.ListenOn). It returns a client
// that dials that listener whatever the URL's host. The cleanup then lets
// fake time run, so that goroutines that poll see the shutdown: fasthttp's
// worker-pool cleaner looks every 10 s.
func startBubbleServer(t *testing.T, cfg server.Config) (*server.Server, *serving, *http.Client) {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return ln.Dial() }}
	t.Cleanup(func() { time.Sleep(time.Minute) }) // runs last
	srv, sv := startServerOn(t, cfg, func(s *server.Server) error { return s.ListenOn(ln) })
	t.Cleanup(tr.CloseIdleConnections)
	return srv, sv, &http.Client{Transport: tr}
}

// startServerOn is startServer with the listener opened by listen.
func startServerOn(t *testing.T, cfg server.Config, listen func(*server.Server) error) (*server.Server, *serving) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	if cfg.DrainWindow == 0 {
		cfg.DrainWindow = 50 * time.Millisecond
	}
	srv := server.New(cfg)
	if err := listen(srv); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	sv := &serving{done: make(chan struct{})}
	go func() { // owner: the test; exit: Shutdown
		sv.err = srv.Serve()
		close(sv.done)
	}()
	t.Cleanup(func() {
		if !srv.Handler().Draining() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		}
		if err := sv.wait(t, 10*time.Second); err != nil {
			t.Errorf("Serve returned %v, want nil after Shutdown", err)
		}
	})
	return srv, sv
}

// newHTTPClient returns a client with its own connection pool, closed by
// the cleanup, so that no keep-alive goroutines outlive the test.
func newHTTPClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// A recordingTransport is an http.RoundTripper that records each request
// the client sends and the status it got, for asserting what the Go SDK
// client does on the wire. It forwards to Base unchanged.
type recordingTransport struct {
	Base http.RoundTripper

	mu   sync.Mutex // guards reqs
	reqs []recordedRequest
}

// A recordedRequest is one request seen by a recordingTransport.
type recordedRequest struct {
	Method    string // HTTP method
	RPC       string // the JSON-RPC method of a POST ("" for a response or none)
	SessionID string // Mcp-Session-Id sent
	Version   string // MCP-Protocol-Version sent
	Status    int    // the response status, 0 on a transport error
	Err       error
}

func (r recordedRequest) String() string {
	s := r.Method
	if r.RPC != "" {
		s += " " + r.RPC
	}
	if r.Err != nil {
		return s + " -> error: " + r.Err.Error()
	}
	return fmt.Sprintf("%s -> %d (session %q, version %q)", s, r.Status, r.SessionID, r.Version)
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := recordedRequest{
		Method:    req.Method,
		SessionID: req.Header.Get("Mcp-Session-Id"),
		Version:   req.Header.Get("Mcp-Protocol-Version"),
	}
	if req.Body != nil && req.Method == http.MethodPost {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		var m struct {
			Method string `json:"method"`
		}
		_ = json.Unmarshal(body, &m)
		rec.RPC = m.Method
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := rt.Base.RoundTrip(req)
	if err != nil {
		rec.Err = err
	} else {
		rec.Status = resp.StatusCode
	}
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, rec)
	rt.mu.Unlock()
	return resp, err
}

// Requests returns the requests recorded so far.
func (rt *recordingTransport) Requests() []recordedRequest {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]recordedRequest(nil), rt.reqs...)
}

// rawPOST sends one JSON-RPC body to url with the headers MCP clients send
// (Content-Type, Accept for both response types, and the session and
// version headers when given).
func rawPOST(t *testing.T, hc *http.Client, url, sid, version, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
	}
	if version != "" {
		req.Header.Set("Mcp-Protocol-Version", version)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", body, err)
	}
	return resp
}

// rawInitialize starts a session at version over raw HTTP (initialize,
// then notifications/initialized) and returns its Mcp-Session-Id.
func rawInitialize(t *testing.T, hc *http.Client, url, version string) string {
	t.Helper()
	resp := rawPOST(t, hc, url, "", "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"`+version+`","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || sid == "" {
		t.Fatalf("initialize: %d, session %q, body %s", resp.StatusCode, sid, body)
	}
	resp = rawPOST(t, hc, url, sid, version, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("notifications/initialized: %d, want 202", resp.StatusCode)
	}
	return sid
}

// rawGET opens the session's GET stream and checks it is an SSE stream.
func rawGET(t *testing.T, hc *http.Client, url, sid, version string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", version)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("GET: %d %q, body %s; want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return resp
}

// A streamResult is what readAll collected from one SSE body.
type streamResult struct {
	Events []sseEvent
	Err    error     // io.EOF for a clean end
	End    time.Time // when the body ended
}

// readAll reads r's events until the body ends, in a goroutine (owner:
// the caller; exit: the body ends or is closed), and delivers them once.
func readAll(r *sseReader, body io.Closer) <-chan streamResult {
	ch := make(chan streamResult, 1)
	go func() {
		defer body.Close()
		var res streamResult
		for {
			ev, err := r.Next()
			if err != nil {
				res.Err, res.End = err, time.Now()
				break
			}
			res.Events = append(res.Events, ev)
		}
		ch <- res
	}()
	return ch
}

// waitFor is testutil.WaitFor, by its short name.
var waitFor = testutil.WaitFor
