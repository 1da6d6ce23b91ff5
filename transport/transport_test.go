package transport

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

const (
	pingBody     = `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	notifyBody   = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	responseBody = `{"jsonrpc":"2.0","id":"s1","result":{}}`
	modernPing   = `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`
)

// A statusCase is one request and what the transport must answer.
type statusCase struct {
	name   string
	method string
	sid    string // Mcp-Session-Id, or "" for none
	body   string
	hdr    []string // name/value pairs over the defaults; "" deletes
	status int
	code   int64             // JSON-RPC error code of the body; 0: a success body (200) or none
	header map[string]string // response headers that must have these values
}

// check sends c and checks the status, Content-Type, headers and body.
func (c statusCase) check(t *testing.T, ts *testServer) result {
	t.Helper()
	r := ts.do(t, c.method, c.sid, c.body, c.hdr...)
	what := c.method + " " + c.name
	if r.status != c.status {
		t.Fatalf("%s: status %d, want %d (body %s)", what, r.status, c.status, r.body)
	}
	for k, v := range c.header {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s: header %s = %q, want %q", what, k, got, v)
		}
	}
	switch {
	case c.code != 0:
		if ct := mediaType(r.header.Get("Content-Type")); ct != ctJSONValue {
			t.Errorf("%s: Content-Type %q, want %q", what, ct, ctJSONValue)
		}
		if e := decodeError(t, r.body); e.Error.Code != c.code {
			t.Errorf("%s: error code %d (%s), want %d", what, e.Error.Code, e.Error.Message, c.code)
		}
	case c.status == http.StatusOK:
		if ct := mediaType(r.header.Get("Content-Type")); ct != ctJSONValue {
			t.Errorf("%s: Content-Type %q, want %q", what, ct, ctJSONValue)
		}
		if !json.Valid(r.body) || bytes.Contains(r.body, []byte(`"error"`)) {
			t.Errorf("%s: body %s, want a JSON-RPC result", what, r.body)
		}
	case c.status == http.StatusAccepted || c.status == http.StatusNoContent:
		if len(r.body) != 0 {
			t.Errorf("%s: body %q, want none", what, r.body)
		}
	}
	return r
}

// TestStatus checks every status the transport documents (doc.go, "Status
// codes") over real HTTP: status, Content-Type, the relevant headers and
// the JSON-RPC error code.
func TestStatus(t *testing.T) {
	ts := newTestServer(t, nil)
	s1125 := ts.initialize(t, mcp.Version20251125)
	s0618 := ts.initialize(t, mcp.Version20250618)
	s0326 := ts.initialize(t, mcp.Version20250326)
	deleted := ts.initialize(t, mcp.Version20251125)
	if r := ts.do(t, http.MethodDelete, deleted, ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: status %d, want 204", r.status)
	}
	const (
		codeServer  = jsonrpc.CodeServerError
		codeNoSess  = jsonrpc.CodeSessionNotFound
		codeParse   = jsonrpc.CodeParseError
		codeInvalid = jsonrpc.CodeInvalidRequest
		codeVersion = jsonrpc.CodeUnsupportedProtocolVersion
	)
	allow := map[string]string{"Allow": "GET, POST, DELETE"}
	allowPOST := map[string]string{"Allow": "POST"}
	batch := `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]`
	const modern = "2026-07-28"

	cases := []statusCase{
		// 403: Origin present and not allowed, before anything else.
		{name: "bad Origin", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Origin", "https://evil.example"}, status: 403, code: codeServer},
		{name: "bad Origin initialize", method: "POST", body: initBody(mcp.Version20251125), hdr: []string{"Origin", "https://evil.example"}, status: 403, code: codeServer},
		{name: "bad Origin", method: "GET", sid: s1125, hdr: []string{"Origin", "https://evil.example"}, status: 403, code: codeServer},
		{name: "bad Origin", method: "DELETE", sid: s1125, hdr: []string{"Origin", "https://evil.example"}, status: 403, code: codeServer},
		{name: "localhost lookalike Origin", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Origin", "http://localhost.evil.example"}, status: 403, code: codeServer},
		{name: "localhost bad port Origin", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Origin", "http://localhost:80x"}, status: 403, code: codeServer},
		{name: "null Origin", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Origin", "null"}, status: 403, code: codeServer},
		{name: "localhost Origin", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Origin", "http://localhost:6274"}, status: 200},
		{name: "localhost Origin no port", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Origin", "http://localhost"}, status: 200},
		{name: "127.0.0.1 Origin", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Origin", "http://127.0.0.1:8080"}, status: 200},
		{name: "[::1] https Origin", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Origin", "https://[::1]:8443"}, status: 200},
		{name: "no Origin", method: "POST", sid: s1125, body: pingBody, status: 200},

		// 404: unknown or ended session.
		{name: "unknown session", method: "POST", sid: unknownSID, body: pingBody, status: 404, code: codeNoSess},
		{name: "malformed session", method: "POST", sid: "not-a-session", body: pingBody, status: 404, code: codeNoSess},
		{name: "unknown session, invalid JSON", method: "POST", sid: unknownSID, body: `{`, status: 404, code: codeNoSess},
		{name: "deleted session", method: "POST", sid: deleted, body: pingBody, status: 404, code: codeNoSess},
		{name: "unknown session", method: "GET", sid: unknownSID, status: 404, code: codeNoSess},
		{name: "malformed session", method: "GET", sid: "not-a-session", status: 404, code: codeNoSess},
		{name: "unknown session with Last-Event-ID", method: "GET", sid: unknownSID, hdr: []string{"Last-Event-ID", "1_1"}, status: 404, code: codeNoSess},
		{name: "unknown session", method: "DELETE", sid: unknownSID, status: 404, code: codeNoSess},
		{name: "malformed session", method: "DELETE", sid: "not-a-session", status: 404, code: codeNoSess},

		// 400: missing Mcp-Session-Id.
		{name: "no session ID", method: "POST", body: pingBody, status: 400, code: codeServer},
		{name: "no session ID", method: "GET", status: 400, code: codeServer},
		{name: "no session ID", method: "DELETE", status: 400, code: codeServer},

		// MCP-Protocol-Version: unsupported → 400; supported but not the
		// session's → accepted.
		{name: "unsupported version", method: "POST", sid: s1125, body: pingBody, hdr: []string{"MCP-Protocol-Version", "2024-01-01"}, status: 400, code: codeServer},
		{name: "unsupported version", method: "GET", sid: s1125, hdr: []string{"MCP-Protocol-Version", "2024-01-01"}, status: 400, code: codeServer},
		{name: "unsupported version", method: "DELETE", sid: s1125, hdr: []string{"MCP-Protocol-Version", "2024-01-01"}, status: 400, code: codeServer},
		{name: "other supported version", method: "POST", sid: s1125, body: pingBody, hdr: []string{"MCP-Protocol-Version", mcp.Version20250618}, status: 200},
		{name: "oldest supported version", method: "POST", sid: s1125, body: pingBody, hdr: []string{"MCP-Protocol-Version", mcp.Version20250326}, status: 200},
		{name: "session's version", method: "POST", sid: s0618, body: pingBody, hdr: []string{"MCP-Protocol-Version", mcp.Version20250618}, status: 200},

		// 400: not JSON, not JSON-RPC.
		{name: "invalid JSON", method: "POST", sid: s1125, body: `{`, status: 400, code: codeParse},
		{name: "invalid JSON, no session", method: "POST", body: `{"jsonrpc":`, status: 400, code: codeParse},
		{name: "empty body", method: "POST", sid: s1125, status: 400, code: codeParse},
		{name: "not JSON-RPC", method: "POST", sid: s1125, body: `{"foo":1}`, status: 400, code: codeInvalid},
		{name: "JSON-RPC 1.0", method: "POST", sid: s1125, body: `{"jsonrpc":"1.0","id":1,"method":"ping"}`, status: 400, code: codeInvalid},
		{name: "null request ID", method: "POST", sid: s1125, body: `{"jsonrpc":"2.0","id":null,"method":"ping"}`, status: 400, code: codeInvalid},
		{name: "JSON scalar", method: "POST", sid: s1125, body: `42`, status: 400, code: codeInvalid},
		// Member names are exact and named once (GHSA-wvj2-96wp-fq3f).
		{name: "duplicate method", method: "POST", sid: s1125, body: `{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call"}`, status: 400, code: codeInvalid},
		{name: "method in another case only", method: "POST", sid: s1125, body: `{"jsonrpc":"2.0","id":1,"Method":"ping"}`, status: 400, code: codeInvalid},
		{name: "invalid UTF-8", method: "POST", sid: s1125, body: "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\xff\"}", status: 400, code: codeParse},

		// Batches: only in sessions at 2025-03-26; never with initialize.
		{name: "batch at 2025-03-26", method: "POST", sid: s0326, body: batch, status: 200},
		{name: "notification batch at 2025-03-26", method: "POST", sid: s0326, body: `[` + notifyBody + `,` + responseBody + `]`, status: 202},
		{name: "batch at 2025-06-18", method: "POST", sid: s0618, body: batch, status: 400, code: codeInvalid},
		{name: "batch at 2025-11-25", method: "POST", sid: s1125, body: batch, status: 400, code: codeInvalid},
		{name: "empty batch", method: "POST", sid: s0326, body: `[]`, status: 400, code: codeInvalid},
		{name: "initialize in a batch", method: "POST", body: `[` + initBody(mcp.Version20250326) + `]`, status: 400, code: codeInvalid},
		{name: "initialize in a batch of a session", method: "POST", sid: s0326, body: `[` + initBody(mcp.Version20250326) + `,` + pingBody + `]`, status: 400, code: codeInvalid},

		// 405: other methods.
		{name: "PUT", method: "PUT", sid: s1125, body: pingBody, status: 405, code: codeServer, header: allow},
		{name: "PATCH", method: "PATCH", sid: s1125, body: pingBody, status: 405, code: codeServer, header: allow},
		{name: "OPTIONS", method: "OPTIONS", status: 405, code: codeServer, header: allow},

		// 406: Accept admits neither type (GET: not text/event-stream).
		{name: "Accept text/html", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Accept", "text/html"}, status: 406, code: codeServer},
		{name: "Accept q=0", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Accept", "application/json;q=0, text/event-stream; q=0.0"}, status: 406, code: codeServer},
		{name: "Accept application/json only", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Accept", "application/json"}, status: 200},
		{name: "Accept */*", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Accept", "*/*"}, status: 200},
		{name: "Accept application/json", method: "GET", sid: s1125, hdr: []string{"Accept", "application/json"}, status: 406, code: codeServer},
		{name: "Accept text/event-stream;q=0", method: "GET", sid: s1125, hdr: []string{"Accept", "text/event-stream;q=0"}, status: 406, code: codeServer},

		// 415: Content-Type not application/json.
		{name: "Content-Type text/plain", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Content-Type", "text/plain"}, status: 415, code: codeServer},
		{name: "no Content-Type", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Content-Type", ""}, status: 415, code: codeServer},
		{name: "Content-Type with charset", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Content-Type", "application/json; charset=utf-8"}, status: 200},
		{name: "Content-Type upper case", method: "POST", sid: s1125, body: pingBody, hdr: []string{"Content-Type", "Application/JSON"}, status: 200},

		// 202: only notifications and responses.
		{name: "notification", method: "POST", sid: s1125, body: notifyBody, status: 202},
		{name: "response", method: "POST", sid: s1125, body: responseBody, status: 202},
		{name: "cancel of nothing", method: "POST", sid: s1125, body: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}}`, status: 202},

		// 2026-07-28 (modern) requests never take the session path: ping
		// is gone in that revision, 404 with -32601 (not the session
		// path's 404 with -32001).
		{name: "modern", method: "POST", body: pingBody, hdr: []string{"MCP-Protocol-Version", modern}, status: 404, code: jsonrpc.CodeMethodNotFound},
		{name: "modern, stale session", method: "POST", sid: deleted, body: pingBody, hdr: []string{"MCP-Protocol-Version", modern}, status: 404, code: jsonrpc.CodeMethodNotFound},
		{name: "modern, unknown session", method: "POST", sid: unknownSID, body: pingBody, hdr: []string{"MCP-Protocol-Version", modern}, status: 404, code: jsonrpc.CodeMethodNotFound},
		{name: "modern by _meta, stale session", method: "POST", sid: deleted, body: modernPing, status: 404, code: jsonrpc.CodeMethodNotFound},
		{name: "modern non-date version", method: "POST", body: pingBody, hdr: []string{"MCP-Protocol-Version", "v999.0.0"}, status: 404, code: jsonrpc.CodeMethodNotFound},
		{name: "modern", method: "GET", sid: s1125, hdr: []string{"MCP-Protocol-Version", modern}, status: 405, code: codeServer, header: allowPOST},
		{name: "modern, stale session", method: "GET", sid: deleted, hdr: []string{"MCP-Protocol-Version", modern}, status: 405, code: codeServer, header: allowPOST},
		{name: "modern", method: "DELETE", sid: s1125, hdr: []string{"MCP-Protocol-Version", modern}, status: 405, code: codeServer, header: allowPOST},
	}
	for _, c := range cases {
		t.Run(c.method+"/"+c.name, func(t *testing.T) { c.check(t, ts) })
	}

	// The refused requests above left every session alive.
	for _, sid := range []string{s1125, s0618, s0326} {
		if r := ts.do(t, http.MethodPost, sid, pingBody); r.status != http.StatusOK {
			t.Errorf("ping %s after the table: status %d, want 200", sid, r.status)
		}
	}
}

// TestBatch checks that a batch of requests at 2025-03-26 gets a JSON array
// with one response per request, and that the notifications in a batch
// are taken.
func TestBatch(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20250326)
	body := `[{"jsonrpc":"2.0","id":1,"method":"ping"},` + notifyBody + `,{"jsonrpc":"2.0","id":"two","method":"tools/list"},` +
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}]`
	r := statusCase{name: "batch", method: "POST", sid: sid, body: body, status: 200}.check(t, ts)
	var resps []message
	if err := json.Unmarshal(r.body, &resps); err != nil {
		t.Fatalf("batch response %s is not a JSON array: %v", r.body, err)
	}
	got := map[string]bool{}
	for _, m := range resps {
		if m.Result == nil {
			t.Errorf("batch response %s: not a result", r.body)
		}
		got[string(m.ID)] = true
	}
	if len(resps) != 3 || !got["1"] || !got[`"two"`] || !got["3"] {
		t.Errorf("batch response %s: want results for ids 1, \"two\" and 3", r.body)
	}
	if !bytes.Contains(r.body, []byte(`"hi"`)) {
		t.Errorf("batch response %s: want the echo of \"hi\"", r.body)
	}
	// A batch of one request (an inline tool's call, answered on the
	// POST's goroutine) and one of a request and a notification are
	// answered with arrays too.
	for _, body := range []string{
		`[{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"message":"one"}}}]`,
		`[` + notifyBody + `,{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"message":"one"}}}]`,
		`[{"jsonrpc":"2.0","id":4,"method":"ping"}]`,
	} {
		r := statusCase{name: "batch of one request", method: "POST", sid: sid, body: body, status: 200}.check(t, ts)
		if err := json.Unmarshal(r.body, &resps); err != nil || len(resps) != 1 || string(resps[0].ID) != "4" || resps[0].Result == nil {
			t.Errorf("batch %s: response %s, want an array of the result for id 4", body, r.body)
		}
	}
}

// TestInitialize checks initialize: 200 application/json with a new
// Mcp-Session-Id; a stale Mcp-Session-Id is ignored; an unknown requested
// version negotiates the latest; a client that takes only
// text/event-stream gets the result as an SSE event.
func TestInitialize(t *testing.T) {
	ts := newTestServer(t, nil)
	first := ts.initialize(t, mcp.Version20251125)

	t.Run("stale session ID", func(t *testing.T) {
		r := statusCase{name: "initialize with a stale ID", method: "POST", sid: unknownSID, body: initBody(mcp.Version20251125), status: 200}.check(t, ts)
		sid := r.header.Get("Mcp-Session-Id")
		if !sessions.ValidID(sid) || sid == unknownSID || sid == first {
			t.Fatalf("Mcp-Session-Id %q: want a new session ID", sid)
		}
		if ts.h.Sessions().Lookup(sid) == nil {
			t.Fatalf("session %s is not live", sid)
		}
	})
	t.Run("live session ID", func(t *testing.T) {
		r := statusCase{name: "initialize with a live ID", method: "POST", sid: first, body: initBody(mcp.Version20251125), status: 200}.check(t, ts)
		if sid := r.header.Get("Mcp-Session-Id"); !sessions.ValidID(sid) || sid == first {
			t.Fatalf("Mcp-Session-Id %q: want a new session ID", sid)
		}
	})
	t.Run("unknown version", func(t *testing.T) {
		r := statusCase{name: "initialize 2099-01-01", method: "POST", body: initBody("2099-01-01"), status: 200}.check(t, ts)
		if !bytes.Contains(r.body, []byte(`"protocolVersion":"`+mcp.LatestLegacyVersion+`"`)) {
			t.Errorf("result %s: want protocolVersion %s", r.body, mcp.LatestLegacyVersion)
		}
	})
	t.Run("no params", func(t *testing.T) {
		r := ts.do(t, http.MethodPost, "", `{"jsonrpc":"2.0","id":5,"method":"initialize"}`)
		if r.status != http.StatusOK || r.header.Get("Mcp-Session-Id") != "" {
			t.Fatalf("status %d, Mcp-Session-Id %q; want 200 and none", r.status, r.header.Get("Mcp-Session-Id"))
		}
		if e := decodeError(t, r.body); e.Error.Code != jsonrpc.CodeInvalidParams || string(e.ID) != "5" {
			t.Errorf("error %s: want code %d for id 5", r.body, jsonrpc.CodeInvalidParams)
		}
	})
	t.Run("SSE only", func(t *testing.T) {
		resp := ts.open(t, http.MethodPost, "", initBody(mcp.Version20250618), "Accept", ctSSEValue)
		if resp.StatusCode != http.StatusOK || mediaType(resp.Header.Get("Content-Type")) != ctSSEValue {
			t.Fatalf("status %d, Content-Type %q; want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !sessions.ValidID(resp.Header.Get("Mcp-Session-Id")) {
			t.Fatalf("Mcp-Session-Id %q", resp.Header.Get("Mcp-Session-Id"))
		}
		evs := newSSEReader(resp.Body).readAll(t)
		if len(evs) != 1 || !decodeMessage(t, evs[0].Data).isResponse("0") {
			t.Fatalf("events %v: want the initialize result only", evs)
		}
	})
}

// TestDelete checks that DELETE ends a session with 204 and that any later
// request naming it gets 404.
func TestDelete(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	other := ts.initialize(t, mcp.Version20251125)
	statusCase{name: "end", method: "DELETE", sid: sid, status: 204}.check(t, ts)
	if ts.h.Sessions().Lookup(sid) != nil {
		t.Fatal("the session is still in the map after DELETE")
	}
	for _, c := range []statusCase{
		{name: "after DELETE", method: "POST", sid: sid, body: pingBody, status: 404, code: jsonrpc.CodeSessionNotFound},
		{name: "notification after DELETE", method: "POST", sid: sid, body: notifyBody, status: 404, code: jsonrpc.CodeSessionNotFound},
		{name: "after DELETE", method: "GET", sid: sid, status: 404, code: jsonrpc.CodeSessionNotFound},
		{name: "after DELETE with Last-Event-ID", method: "GET", sid: sid, hdr: []string{"Last-Event-ID", "0_1"}, status: 404, code: jsonrpc.CodeSessionNotFound},
		{name: "after DELETE", method: "DELETE", sid: sid, status: 404, code: jsonrpc.CodeSessionNotFound},
		{name: "other session", method: "POST", sid: other, body: pingBody, status: 200},
	} {
		c.check(t, ts)
	}
}

// TestDeleteEndsStreams checks that DELETE ends the session's open GET
// stream and cancels its calls in flight.
func TestDeleteEndsStreams(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	get := ts.open(t, http.MethodGet, sid, "")
	if get.StatusCode != http.StatusOK {
		t.Fatalf("GET: status %d", get.StatusCode)
	}
	g := ts.gate("delete")
	call := ts.doAsync(t, http.MethodPost, sid, callBody(2, "block", `{"gate":"delete"}`))
	g.waitStarted(t)
	statusCase{name: "end", method: "DELETE", sid: sid, status: 204}.check(t, ts)
	evs := newSSEReader(get.Body).readAll(t) // ends: the session ended
	for _, e := range evs {
		if e.HasData && e.Data != "" {
			t.Errorf("GET stream event %v after DELETE: want none", e)
		}
	}
	if r := await(t, call); r.status != http.StatusNotFound && r.status != http.StatusAccepted {
		t.Errorf("call in flight at DELETE: status %d body %s, want 404 or 202", r.status, r.body)
	}
}

// TestInlineAnswers checks the answers of a POST of one inline request
// (answerInline): a result encoded into the response's body, a result
// encoded elsewhere, an error response, and a client that takes SSE only.
func TestInlineAnswers(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	for _, c := range []struct {
		name, body, accept, ct, want string
	}{
		{"common result", callBody(2, "echo", `{"message":"a\nb"}`), acceptBoth, ctJSONValue,
			`{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"a\nb"}]}}`},
		{"result with _meta", callBody(3, "inline_meta", `{}`), acceptBoth, ctJSONValue,
			`{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"meta","_meta":{"k":"v"}}]}}`},
		{"arguments not an object", callBody(4, "echo", `[1]`), acceptBoth, ctJSONValue,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params: arguments must be an object"},"id":4}`},
		{"SSE only", callBody(5, "echo", `{"message":"sse"}`), ctSSEValue, ctSSEValue,
			`{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"sse"}]}}`},
	} {
		r := ts.do(t, http.MethodPost, sid, c.body, "Accept", c.accept)
		got := string(r.body)
		if c.ct == ctSSEValue {
			got = ""
			for _, e := range newSSEReader(strings.NewReader(string(r.body))).readAll(t) {
				if e.Data != "" {
					got += e.Data
				}
			}
		}
		if r.status != http.StatusOK || mediaType(r.header.Get("Content-Type")) != c.ct || got != c.want {
			t.Errorf("%s: status %d, Content-Type %q, body %s; want 200 %s %s", c.name, r.status, r.header.Get("Content-Type"), got, c.ct, c.want)
		}
	}
}

// TestDeleteDuringInlineCall: a DELETE while an inline tool runs ends
// its context; the POST gets 404, as for a call on a worker, not the
// tool's error answered as if the session were alive. A call of the same
// tool released in time gets its result as JSON.
func TestDeleteDuringInlineCall(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	g := ts.gate("released")
	call := ts.doAsync(t, http.MethodPost, sid, callBody(2, "inline_block", `{"gate":"released"}`))
	g.waitStarted(t)
	g.Release()
	if r := await(t, call); r.status != http.StatusOK || !strings.Contains(string(r.body), `"released"`) {
		t.Fatalf("released call: status %d body %s, want 200 with the result", r.status, r.body)
	}
	g = ts.gate("deleted")
	call = ts.doAsync(t, http.MethodPost, sid, callBody(3, "inline_block", `{"gate":"deleted"}`))
	g.waitStarted(t)
	statusCase{name: "end", method: "DELETE", sid: sid, status: 204}.check(t, ts)
	if r := await(t, call); r.status != http.StatusNotFound {
		t.Errorf("inline call in flight at DELETE: status %d body %s, want 404", r.status, r.body)
	}
}

// TestMaxSessions checks that past Sessions.MaxSessions initialize gets 503
// with Retry-After while existing sessions keep working, and that a freed
// slot can be taken again.
func TestMaxSessions(t *testing.T) {
	ts := newTestServer(t, &Options{Sessions: sessions.Options{MaxSessions: 2}, RetryAfter: 2 * time.Second})
	a := ts.initialize(t, mcp.Version20251125)
	b := ts.initialize(t, mcp.Version20250326)
	r := statusCase{name: "past the cap", method: "POST", body: initBody(mcp.Version20251125), status: 503,
		code: jsonrpc.CodeServerError, header: map[string]string{"Retry-After": "2", "Mcp-Session-Id": ""}}.check(t, ts)
	if e := decodeError(t, r.body); string(e.ID) != "0" {
		t.Errorf("503 body %s: want the initialize's id 0", r.body)
	}
	if n := ts.h.Sessions().Len(); n != 2 {
		t.Errorf("live sessions: %d, want 2", n)
	}
	statusCase{name: "existing session", method: "POST", sid: a, body: pingBody, status: 200}.check(t, ts)
	statusCase{name: "existing session", method: "POST", sid: b, body: callBody(3, "echo", `{"message":"x"}`), status: 200}.check(t, ts)
	statusCase{name: "free a slot", method: "DELETE", sid: b, status: 204}.check(t, ts)
	ts.initialize(t, mcp.Version20251125)
}

// TestBodyLimit checks 413 both from the Handler's own check and from
// Fiber's BodyLimit through NewApp's ErrorHandler.
func TestBodyLimit(t *testing.T) {
	const limit = 1024
	big := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"` +
		strings.Repeat("x", 2*limit) + `"}}}`
	fits := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"` +
		strings.Repeat("x", limit-200) + `"}}}`

	t.Run("Fiber BodyLimit", func(t *testing.T) {
		ts := newTestServer(t, &Options{MaxBodyBytes: limit})
		sid := ts.initialize(t, mcp.Version20251125)
		statusCase{name: "over the limit", method: "POST", sid: sid, body: big, status: 413, code: jsonrpc.CodeServerError}.check(t, ts)
		statusCase{name: "under the limit", method: "POST", sid: sid, body: fits, status: 200}.check(t, ts)
	})
	t.Run("Handler check", func(t *testing.T) {
		// An app whose BodyLimit is larger than the Handler's: the Handler's
		// own check answers.
		ts := newTestServerApp(t, &Options{MaxBodyBytes: limit}, func(h *Handler) *fiber.App {
			app := fiber.New(fiber.Config{DisableStartupMessage: true, BodyLimit: 1 << 20, ErrorHandler: h.ErrorHandler})
			h.Register(app)
			return app
		})
		sid := ts.initialize(t, mcp.Version20251125)
		statusCase{name: "over the limit", method: "POST", sid: sid, body: big, status: 413, code: jsonrpc.CodeServerError}.check(t, ts)
		statusCase{name: "over the limit, no session", method: "POST", body: big, status: 413, code: jsonrpc.CodeServerError}.check(t, ts)
		statusCase{name: "under the limit", method: "POST", sid: sid, body: fits, status: 200}.check(t, ts)
	})
}

// TestModernUnsupported checks the answer to a modern request at a version
// the server does not serve: 400 -32022 with data.supported listing the
// served versions and data.requested, for the request's id.
func TestModernUnsupported(t *testing.T) {
	ts := newTestServer(t, nil)
	r := statusCase{name: "modern", method: "POST", sid: unknownSID,
		body: `{"jsonrpc":"2.0","id":"m1","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"v999.0.0","io.modelcontextprotocol/clientCapabilities":{}}}}`,
		hdr:  []string{"MCP-Protocol-Version", "v999.0.0"}, status: 400, code: jsonrpc.CodeUnsupportedProtocolVersion}.check(t, ts)
	e := decodeError(t, r.body)
	if string(e.ID) != `"m1"` {
		t.Errorf("id %s, want \"m1\"", e.ID)
	}
	var data struct {
		Supported []string `json:"supported"`
		Requested string   `json:"requested"`
	}
	if err := json.Unmarshal(e.Error.Data, &data); err != nil {
		t.Fatalf("error data %s: %v", e.Error.Data, err)
	}
	want := strings.Join(mcp.SupportedVersions, ",")
	if got := strings.Join(data.Supported, ","); got != want {
		t.Errorf("data.supported = %q, want %q", got, want)
	}
	if data.Requested != "v999.0.0" {
		t.Errorf("data.requested = %q, want v999.0.0", data.Requested)
	}
	if n := ts.h.Sessions().Len(); n != 0 {
		t.Errorf("%d sessions after modern requests, want 0", n)
	}
}

// TestConflict checks that a second GET stream of a session gets 409, and
// that once the first is closed a GET is accepted again.
func TestConflict(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	first := ts.open(t, http.MethodGet, sid, "")
	if first.StatusCode != http.StatusOK {
		t.Fatalf("first GET: status %d", first.StatusCode)
	}
	statusCase{name: "second GET", method: "GET", sid: sid, status: 409, code: jsonrpc.CodeServerError}.check(t, ts)
	first.Body.Close()
	st := ts.h.Sessions().Lookup(sid).Standalone()
	// The writer notices the closed connection at its next write: send
	// something so that it does.
	waitFor(t, 10*time.Second, func() error {
		if !st.Attached() {
			return nil
		}
		_ = ts.state(t, sid).Send([]byte(`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"poke"}}`))
		return errStillAttached
	})
	again := ts.open(t, http.MethodGet, sid, "")
	if again.StatusCode != http.StatusOK {
		t.Fatalf("GET after the first closed: status %d, want 200", again.StatusCode)
	}
}

// TestDraining checks Handler.Shutdown as clients see it: while draining,
// initialize and new GET streams get 503 with Retry-After, requests of
// live sessions are still answered, an open GET stream ends within the
// drain window after a retry field (RetryHint plus a part of the window),
// a call in flight completes, and Shutdown returns the moment it does,
// every session gone. It runs in fake time, so the bounds are exact.
func TestDraining(t *testing.T) { inBubble(t, testDraining) }

func testDraining(t *testing.T) {
	const window = 50 * time.Millisecond
	ts := newBubbleServer(t, &Options{RetryAfter: 3 * time.Second})
	sid := ts.initialize(t, mcp.Version20251125)
	_, get := ts.openSSE(t, http.MethodGet, sid, "")
	get.expectPriming(t, "0_0")
	g := ts.gate("drain")
	call := ts.doAsync(t, http.MethodPost, sid, callBody(2, "block", `{"gate":"drain"}`))
	g.waitStarted(t)

	start := time.Now()
	shut := make(chan error, 1)
	go func() { // owner: this test; exit: Shutdown returns (the call is released below)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- ts.h.Shutdown(ctx, window)
	}()
	synctest.Wait()
	if !ts.h.Draining() {
		t.Fatal("not draining once Shutdown waits")
	}
	retry := map[string]string{"Retry-After": "3"}
	statusCase{name: "initialize while draining", method: "POST", body: initBody(mcp.Version20251125), status: 503, code: jsonrpc.CodeServerError, header: retry}.check(t, ts)
	statusCase{name: "new GET while draining", method: "GET", sid: sid, hdr: []string{"Last-Event-ID", "0_0"}, status: 503, code: jsonrpc.CodeServerError, header: retry}.check(t, ts)
	statusCase{name: "live session while draining", method: "POST", sid: sid, body: pingBody, status: 200}.check(t, ts)

	// The open GET stream ends within the window, with a retry field of
	// RetryHint (3s) plus a part of the window.
	evs := get.readAll(t)
	if took := time.Since(start); took >= window {
		t.Errorf("GET stream ended %v into the drain, want within the %v window", took, window)
	}
	if len(evs) == 0 || evs[len(evs)-1].Retry == "" {
		t.Fatalf("GET stream at drain: %v, want a retry field last", evs)
	}
	if ms, err := strconv.Atoi(evs[len(evs)-1].Retry); err != nil || ms < 3000 || ms >= 3000+int(window/time.Millisecond) {
		t.Errorf("drain retry %q: want in [3000, 3050) ms", evs[len(evs)-1].Retry)
	}

	time.Sleep(time.Second) // long past the window: Shutdown waits for the call
	synctest.Wait()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a call in flight", err)
	default:
	}
	g.Release()
	released := time.Now()
	r := await(t, call)
	if m := decodeMessage(t, string(r.body)); r.status != http.StatusOK || !m.isResponse("2") || !strings.Contains(string(m.Result), "released") {
		t.Errorf("call in flight at shutdown: status %d body %s, want its result", r.status, r.body)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if took := time.Since(released); took != 0 {
		t.Errorf("Shutdown returned %v after the last call ended, want at once", took)
	}
	if n := ts.h.Sessions().Len(); n != 0 {
		t.Errorf("%d sessions after Shutdown, want 0", n)
	}
	statusCase{name: "after Shutdown", method: "POST", sid: sid, body: pingBody, status: 404, code: jsonrpc.CodeSessionNotFound}.check(t, ts)
}

// TestReadHeaders checks that the one-pass header reader finds the MCP
// headers whatever the case of their names, with and without fasthttp's
// header-name normalization.
func TestReadHeaders(t *testing.T) {
	for _, normalize := range []bool{true, false} {
		for _, names := range [][5]string{
			{"Origin", "Accept", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-ID"},
			{"origin", "accept", "mcp-session-id", "mcp-protocol-version", "last-event-id"},
			{"ORIGIN", "ACCEPT", "MCP-SESSION-ID", "MCP-PROTOCOL-VERSION", "LAST-EVENT-ID"},
		} {
			var h fasthttp.RequestHeader
			if !normalize {
				h.DisableNormalizing()
			}
			h.Set("X-Other", "x")
			for i, n := range names {
				h.Set(n, "v"+strconv.Itoa(i))
			}
			r := readHeaders(&h)
			got := [5]string{string(r.origin), string(r.accept), string(r.sessionID), string(r.version), string(r.lastEventID)}
			if want := [5]string{"v0", "v1", "v2", "v3", "v4"}; got != want {
				t.Errorf("normalize=%v names %v: readHeaders = %q, want %q", normalize, names, got, want)
			}
		}
	}
}
