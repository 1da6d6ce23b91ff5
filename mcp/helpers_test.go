package mcp_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/transport"
)

// env is a real server on a 127.0.0.1:0 listener: an mcp.Server behind
// the Streamable HTTP transport, and a plain net/http client.
type env struct {
	t      *testing.T
	url    string
	srv    *mcp.Server
	h      *transport.Handler
	client *http.Client
	nextID int
	mu     sync.Mutex
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// start serves a Server made with opts (nil: defaults) and filled by
// setup. Cleanup shuts it down.
func start(t *testing.T, opts *mcp.ServerOptions, setup func(*mcp.Server)) *env {
	t.Helper()
	if opts == nil {
		opts = &mcp.ServerOptions{}
	}
	opts.Logger = quiet
	srv := mcp.NewServer(mcp.Implementation{Name: "mcp-test", Version: "1"}, opts)
	if setup != nil {
		setup(srv)
	}
	h := transport.NewHandler(srv, &transport.Options{Logger: quiet, KeepAlive: -1})
	app := transport.NewApp(h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }() // owner: the test; exit: app shutdown in Cleanup
	e := &env{t: t, url: "http://" + ln.Addr().String() + "/mcp", srv: srv, h: h,
		client: &http.Client{Transport: &http.Transport{DisableCompression: true}}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx, 0)
		srv.Close()
		_ = app.ShutdownWithContext(ctx)
		<-served
		e.client.CloseIdleConnections()
	})
	return e
}

func (e *env) id() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nextID++
	return e.nextID
}

// msg is one JSON-RPC message the server sent.
type msg struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int64           `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

func (m *msg) isResponse() bool { return m.Method == "" && (m.Result != nil || m.Error != nil) }
func (m *msg) isRequest() bool  { return m.Method != "" && m.ID != nil }

// reply is an HTTP answer and the messages it carried.
type reply struct {
	status int
	ct     string
	header http.Header
	msgs   []*msg
}

// final returns the response message, failing the test if there is none.
func (r *reply) final(t *testing.T) *msg {
	t.Helper()
	for _, m := range r.msgs {
		if m.isResponse() {
			return m
		}
	}
	t.Fatalf("no JSON-RPC response in the reply (status %d, %s): %v", r.status, r.ct, r.msgs)
	return nil
}

// result decodes the final result into v, failing on an error response.
func (r *reply) result(t *testing.T, v any) {
	t.Helper()
	m := r.final(t)
	if m.Error != nil {
		t.Fatalf("error response %d: %s (%s)", m.Error.Code, m.Error.Message, m.Error.Data)
	}
	if err := json.Unmarshal(m.Result, v); err != nil {
		t.Fatalf("result %s: %v", m.Result, err)
	}
}

// errCode returns the code of the final response's error, failing if it
// is a result.
func (r *reply) errCode(t *testing.T) int64 {
	t.Helper()
	m := r.final(t)
	if m.Error == nil {
		t.Fatalf("want an error, got result %s", m.Result)
	}
	return m.Error.Code
}

// do sends a POST and reads the whole answer (a JSON body or an SSE stream
// to its end).
func (e *env) do(hdr map[string]string, body []byte) *reply {
	e.t.Helper()
	resp := e.send(hdr, body)
	defer resp.Body.Close()
	r := &reply{status: resp.StatusCode, ct: resp.Header.Get("Content-Type"), header: resp.Header}
	if strings.HasPrefix(r.ct, "text/event-stream") {
		for m := range readSSE(resp.Body) {
			r.msgs = append(r.msgs, m)
		}
		return r
	}
	b, _ := io.ReadAll(resp.Body)
	if len(bytes.TrimSpace(b)) > 0 {
		var m msg
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Fatalf("body %q: %v", b, err)
		}
		r.msgs = []*msg{&m}
	}
	return r
}

func (e *env) send(hdr map[string]string, body []byte) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header[k] = []string{v} // as given: names are case-insensitive, values exact
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// readSSE returns the messages of an SSE body, closed at its end.
func readSSE(body io.Reader) <-chan *msg {
	ch := make(chan *msg, 16)
	go func() { // owner: the caller; exit: the body ends (the caller closes it)
		defer close(ch)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 1<<16), 1<<22)
		var data []byte
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if len(data) > 0 {
					var m msg
					if json.Unmarshal(data, &m) == nil {
						ch <- &m
					}
				}
				data = nil
			case strings.HasPrefix(line, "data:"):
				data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")...)
			}
		}
	}()
	return ch
}

// modern builds a 2026-07-28 request: the standard headers from the body
// (Mcp-Name from params name, uri or taskId), and _meta with the protocol
// version and caps (nil: {}); a nil _meta member in params is left out.
// over replaces headers ("" deletes one).
func (e *env) modern(method string, params map[string]any, caps map[string]any, over map[string]string) *reply {
	e.t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	if caps == nil {
		caps = map[string]any{}
	}
	meta, _ := params["_meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	if _, ok := meta[mcp.MetaProtocolVersion]; !ok {
		meta[mcp.MetaProtocolVersion] = mcp.Version20260728
	}
	if _, ok := meta[mcp.MetaClientCapabilities]; !ok {
		meta[mcp.MetaClientCapabilities] = caps
	}
	meta[mcp.MetaClientInfo] = map[string]any{"name": "mcp-test-client", "version": "1"}
	for k, v := range meta {
		if v == nil {
			delete(meta, k) // a nil value leaves the member out
		}
	}
	params["_meta"] = meta
	hdr := map[string]string{"MCP-Protocol-Version": mcp.Version20260728, "Mcp-Method": method}
	for _, k := range []string{"name", "uri", "taskId"} {
		if v, ok := params[k].(string); ok {
			hdr["Mcp-Name"] = v
		}
	}
	for k, v := range over {
		hdr[k] = v
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": e.id(), "method": method, "params": params})
	return e.do(hdr, body)
}

// session is a legacy (2025-11-25) session.
type session struct {
	e   *env
	sid string
}

// initialize opens a session at version with the client capabilities
// caps (JSON) and sends notifications/initialized.
func (e *env) initialize(version, caps string) *session {
	e.t.Helper()
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":%q,"capabilities":%s,"clientInfo":{"name":"mcp-test-client","version":"1"}}}`, version, caps)
	r := e.do(nil, []byte(body))
	if r.status != http.StatusOK {
		e.t.Fatalf("initialize: status %d", r.status)
	}
	sid := r.header.Get("Mcp-Session-Id")
	if sid == "" {
		e.t.Fatal("initialize: no Mcp-Session-Id")
	}
	s := &session{e: e, sid: sid}
	if r := s.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`); r.status != http.StatusAccepted {
		e.t.Fatalf("notifications/initialized: status %d", r.status)
	}
	return s
}

func (s *session) headers() map[string]string {
	return map[string]string{"Mcp-Session-Id": s.sid, "MCP-Protocol-Version": mcp.Version20251125}
}

// post sends one message in the session and reads the whole answer.
func (s *session) post(body string) *reply {
	s.e.t.Helper()
	return s.e.do(s.headers(), []byte(body))
}

// call sends a request in the session and returns its stream of
// messages; the caller reads until the response.
func (s *session) call(method string, params any) (<-chan *msg, func()) {
	s.e.t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": s.e.id(), "method": method, "params": params})
	resp := s.e.send(s.headers(), body)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return readSSE(resp.Body), func() { resp.Body.Close() }
	}
	ch := make(chan *msg, 1)
	var m msg
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(b, &m); err != nil {
		s.e.t.Fatalf("%s: status %d, body %q", method, resp.StatusCode, b)
	}
	ch <- &m
	close(ch)
	return ch, func() {}
}

// get opens the session's GET stream.
func (s *session) get() (<-chan *msg, func()) {
	s.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.e.url, nil)
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range s.headers() {
		req.Header.Set(k, v)
	}
	resp, err := s.e.client.Do(req)
	if err != nil {
		s.e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		s.e.t.Fatalf("GET: status %d", resp.StatusCode)
	}
	return readSSE(resp.Body), func() { resp.Body.Close() }
}

// next returns the next message of ch within 5s.
func next(t *testing.T, ch <-chan *msg) *msg {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("the stream ended")
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
	}
	return nil
}

func textOf(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var r struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Content) == 0 {
		t.Fatalf("not a tool result with content: %s", raw)
	}
	return r.Content[0].Text
}

var objectSchema = json.RawMessage(`{"type":"object"}`)
