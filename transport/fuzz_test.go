package transport

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// refAccept is a plain reading of parseAccept's contract for Accept
// headers without parameters: comma-separated media ranges, compared
// case-insensitively.
func refAccept(h string) (json, sse bool) {
	if strings.TrimSpace(h) == "" {
		return true, true
	}
	for _, r := range strings.Split(h, ",") {
		mt := strings.TrimSpace(r)
		switch {
		case mt == "*/*":
			json, sse = true, true
		case strings.EqualFold(mt, "application/json"), strings.EqualFold(mt, "application/*"):
			json = true
		case strings.EqualFold(mt, "text/event-stream"), strings.EqualFold(mt, "text/*"):
			sse = true
		}
	}
	return json, sse
}

// plainAccept reports whether h is printable ASCII with no parameters.
func plainAccept(h string) bool {
	for i := 0; i < len(h); i++ {
		if h[i] < 0x20 || h[i] > 0x7e || h[i] == ';' {
			return false
		}
	}
	return true
}

// FuzzParseAccept checks that parseAccept never panics, agrees with
// refAccept on headers without parameters, and that q=0 on every range
// admits nothing.
//
// go test ./transport -run='^$' -fuzz='^FuzzParseAccept$' -fuzztime=10s
func FuzzParseAccept(f *testing.F) {
	for _, s := range []string{
		"", " ", acceptBoth, "application/json", "text/event-stream", "*/*", "text/*", "application/*",
		"text/html", "Application/JSON , TEXT/EVENT-STREAM", "application/json;q=0", "text/event-stream; q=0.000, */*;q=0",
		"application/json;q=0.5;charset=utf-8", ",,,", "application/json,", ";q=0", "*/*;Q=0.0", "text/event-stream;q=0.",
		"text/event-stream, application/json", "*/*, text/*", "application/*, text/event-stream",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		gotJSON, gotSSE := parseAccept([]byte(h))
		// The whole-header matches agree with the general parser.
		if j, s := parseAcceptRanges([]byte(h)); j != gotJSON || s != gotSSE {
			t.Fatalf("parseAccept(%q) = %v, %v; parseAcceptRanges: %v, %v", h, gotJSON, gotSSE, j, s)
		}
		if plainAccept(h) {
			if wantJSON, wantSSE := refAccept(h); gotJSON != wantJSON || gotSSE != wantSSE {
				t.Fatalf("parseAccept(%q) = %v, %v; want %v, %v", h, gotJSON, gotSSE, wantJSON, wantSSE)
			}
		}
		// Refusing every range admits nothing.
		if strings.TrimSpace(h) != "" && !strings.ContainsAny(h, ";") {
			var b strings.Builder
			for i, r := range strings.Split(h, ",") {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(r)
				b.WriteString(";q=0")
			}
			if j, s := parseAccept([]byte(b.String())); j || s {
				t.Fatalf("parseAccept(%q) = %v, %v; want false, false", b.String(), j, s)
			}
		}
	})
}

// fuzzBackend serves tools that never wait: echo, and say {count} which
// sends up to 3 notifications first.
func fuzzBackend() *mcp.Server {
	srv := mcp.NewServer(mcp.Implementation{Name: "fuzz", Version: "0"}, nil)
	srv.AddTool(&mcp.Tool{Name: "echo", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent(string(req.Params.Arguments))}}, nil
		})
	srv.AddTool(&mcp.Tool{Name: "say", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var a struct {
				Count int `json:"count"`
			}
			_ = json.Unmarshal(req.Params.Arguments, &a)
			for i := 0; i < min(a.Count, 3); i++ {
				if err := req.Log(mcp.LevelInfo, "say", i); err != nil {
					return nil, err
				}
			}
			return &mcp.CallToolResult{}, nil
		})
	return srv
}

// documentedStatus are the statuses of doc.go's table, with 200, 202 and
// 204.
var documentedStatus = map[int]bool{200: true, 202: true, 204: true, 400: true, 403: true, 404: true,
	405: true, 406: true, 409: true, 413: true, 415: true, 503: true}

// FuzzPOST sends random bodies with a few header variants (session: none,
// live at 2025-03-26, live at 2025-11-25, unknown, malformed;
// MCP-Protocol-Version; Accept; Content-Type) through
// Handler.ServeFastHTTP. It checks that the Handler never panics, answers
// with a documented status (no 5xx but 503), that a JSON body is valid
// JSON, and that every SSE event carries JSON (or is a priming event).
//
// go test ./transport -run='^$' -fuzz='^FuzzPOST$' -fuzztime=10s
func FuzzPOST(f *testing.F) {
	h := NewHandler(fuzzBackend(), &Options{
		MaxBodyBytes: 64 << 10,
		Sessions:     sessions.Options{MaxSessions: 1000},
		Logger:       discardLogger,
	})
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx, 0)
	})
	s0326 := initializeInProcess(f, h.ServeFastHTTP, mcp.Version20250326)
	s1125 := initializeInProcess(f, h.ServeFastHTTP, mcp.Version20251125)
	sids := []string{"", s0326, s1125, unknownSID, "not-a-session"}
	versions := []string{"", mcp.Version20250618, mcp.Version20260728, "2024-01-01"}
	accepts := []string{acceptBoth, ctJSONValue, ctSSEValue}
	ctypes := []string{ctJSONValue, "application/json; charset=utf-8", ctJSONValue, "text/plain"}

	for _, v := range []uint8{0, 1, 2, 3, 4, 7, 26, 52, 67, 122, 200} {
		for _, b := range []string{
			pingBody, notifyBody, responseBody, modernPing, initBody(mcp.Version20251125), `{`, `[]`, `null`,
			`[` + pingBody + `,` + notifyBody + `]`, `[` + initBody(mcp.Version20250326) + `]`,
			callBody(1, "echo", `{"message":"hi"}`), callBody(2, "say", `{"count":2}`), callBody(3, "nope", `{}`),
			`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"say","arguments":{"count":3}}}`,
			`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
			`{"jsonrpc":"2.0","id":5,"method":"logging/setLevel","params":{"level":"debug"}}`,
			`{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, `{"jsonrpc":"2.0","id":"x","error":{"code":1,"message":"m"}}`,
		} {
			f.Add([]byte(b), v)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, variant uint8) {
		v := int(variant)
		hdr := []string{"Content-Type", ctypes[(v/60)%4], "Accept", accepts[(v/20)%3]}
		if sid := sids[v%5]; sid != "" {
			hdr = append(hdr, "Mcp-Session-Id", sid)
		}
		if ver := versions[(v/5)%4]; ver != "" {
			hdr = append(hdr, "MCP-Protocol-Version", ver)
		}
		ctx := newRequestCtx(fasthttp.MethodPost, body, hdr...)
		h.ServeFastHTTP(ctx)
		status := ctx.Response.StatusCode()
		out := ctx.Response.Body() // reads an SSE stream to its end
		what := fmt.Sprintf("POST %q with %q", body, hdr)
		if !documentedStatus[status] {
			t.Fatalf("%s: status %d is not documented (body %s)", what, status, out)
		}
		ct := string(ctx.Response.Header.ContentType())
		switch {
		case ct == ctJSONValue && len(out) > 0:
			if !json.Valid(out) {
				t.Fatalf("%s: status %d, application/json body %q is not JSON", what, status, out)
			}
		case ct == ctSSEValue:
			r := newSSEReader(bytes.NewReader(out))
			for {
				e, err := r.next()
				if err != nil {
					break
				}
				if e.HasData && e.Data != "" && !json.Valid([]byte(e.Data)) {
					t.Fatalf("%s: SSE event data %q is not JSON", what, e.Data)
				}
			}
		}
	})
}

// FuzzScanTokens checks the token scan of the 404 fast path against
// bytes.Contains.
func FuzzScanTokens(f *testing.F) {
	for _, s := range []string{
		``, `"i`, `"initialize"`, `"initialized"`, `{"jsonrpc":"2.0","id":1,"method":"initialize"}`,
		`{"params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}},"method":"initialize"}`,
		`"i"i"initialize"`, `""io.modelcontextprotocol/protocolVersion"`,
		`z`, `zzzzzzzzz"initialize"`, `"initializ`, `initialize"`, `V"io.modelcontextprotocol/protocolVersion`,
		`"io.modelcontextprotocol/protocolVersio"io.modelcontextprotocol/protocolVersion"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		meta, init := scanTokens(body)
		if want := bytes.Contains(body, metaVersionToken); meta != want {
			t.Errorf("scanTokens(%q) meta = %v, want %v", body, meta, want)
		}
		if want := bytes.Contains(body, initializeToken); init != want {
			t.Errorf("scanTokens(%q) init = %v, want %v", body, init, want)
		}
	})
}
