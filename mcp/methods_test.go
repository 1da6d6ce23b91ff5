package mcp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// allMethods are the request methods the method table knows (tasks/result
// and tasks/list are 2025-11-25 only), a notification sent as a request
// and unknown ones.
var allMethods = []string{
	"initialize", "ping", "logging/setLevel",
	"tools/list", "tools/call",
	"prompts/list", "prompts/get",
	"resources/list", "resources/templates/list", "resources/read", "resources/subscribe", "resources/unsubscribe",
	"completion/complete",
	"server/discover", "subscriptions/listen",
	"tasks/get", "tasks/update", "tasks/cancel", "tasks/result", "tasks/list",
	"notifications/initialized", "nope", "",
}

type discard struct{}

func (discard) Send([]byte) error { return nil }

// methodsServer returns a Server with every feature (full) or none.
func methodsServer(full bool) *mcp.Server {
	if !full {
		return mcp.NewServer(mcp.Implementation{Name: "m", Version: "1"}, &mcp.ServerOptions{Logger: quiet})
	}
	s := mcp.NewServer(mcp.Implementation{Name: "m", Version: "1"}, &mcp.ServerOptions{
		Logger: quiet,
		Tasks:  &mcp.TaskOptions{SyncWindow: time.Hour},
		CompletionHandler: func(context.Context, *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
			return &mcp.CompleteResult{}, nil
		},
	})
	s.AddTool(&mcp.Tool{Name: "t", InputSchema: objectSchema}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{}, nil
	})
	s.AddPrompt(&mcp.Prompt{Name: "p"}, func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return &mcp.GetPromptResult{}, nil
	})
	s.AddResource(&mcp.Resource{URI: "test://r", Name: "r"}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{}, nil
	})
	return s
}

// methodsSession returns a Server made by methodsServer(full) and a 2025-11-25
// session of it; Cleanup closes both.
func methodsSession(tb testing.TB, full bool) (*mcp.Server, mcp.Conn) {
	tb.Helper()
	s := methodsServer(full)
	_, conn, jerr := s.Initialize(json.RawMessage(`{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}`))
	if jerr != nil {
		tb.Fatal(jerr)
	}
	tb.Cleanup(func() { conn.Close(); s.Close() })
	return s, conn
}

// code returns 0 for a result, else the error's code.
func code(_ []byte, jerr *jsonrpc.Error) int64 {
	if jerr != nil {
		return jerr.Code
	}
	return 0
}

// TestMethodTable pins, for every method, whether each era answers it
// inline and what it answers with no params (legacy), with no params
// (2026-07-28) and with valid _meta and headers but no other params
// (2026-07-28), on a server with no features and on one with all.
// Codes: 0 a result; -32601 method not found; -32602 invalid params.
func TestMethodTable(t *testing.T) {
	meta := json.RawMessage(`{"_meta":{"` + mcp.MetaProtocolVersion + `":"` + mcp.Version20260728 + `","` + mcp.MetaClientCapabilities + `":{}}}`)
	var b strings.Builder
	for _, full := range []bool{false, true} {
		s, conn := methodsSession(t, full)
		for _, m := range allMethods {
			legacy := code(conn.Handle(&mcp.Call{Session: conn.State(), Method: m, ID: json.RawMessage(`1`), Out: discard{}}))
			bare := code(s.HandleStateless(&mcp.StatelessCall{Method: m, ID: json.RawMessage(`1`), Out: discard{}, Context: context.Background()}))
			withMeta := code(s.HandleStateless(&mcp.StatelessCall{Method: m, ID: json.RawMessage(`1`), Params: meta, Out: discard{}, Context: context.Background(),
				Headers: map[string]string{"mcp-protocol-version": mcp.Version20260728, "mcp-method": m}}))
			fmt.Fprintf(&b, "full=%-5v %-28q inline=%-5v %6d | inlineStateless=%-5v %6d %6d\n", full, m, s.Inline(m), legacy, s.InlineStateless(m), bare, withMeta)
		}
	}
	if got := b.String(); got != methodTableWant {
		t.Errorf("method table:\n%s\nwant:\n%s", got, methodTableWant)
	}
}

const methodTableWant = `full=false "initialize"                 inline=true  -32601 | inlineStateless=false -32601 -32601
full=false "ping"                       inline=true       0 | inlineStateless=false -32601 -32601
full=false "logging/setLevel"           inline=true  -32602 | inlineStateless=false -32601 -32601
full=false "tools/list"                 inline=true  -32601 | inlineStateless=true  -32601 -32601
full=false "tools/call"                 inline=false -32601 | inlineStateless=false -32601 -32601
full=false "prompts/list"               inline=true  -32601 | inlineStateless=true  -32601 -32601
full=false "prompts/get"                inline=false -32601 | inlineStateless=false -32601 -32601
full=false "resources/list"             inline=true  -32601 | inlineStateless=true  -32601 -32601
full=false "resources/templates/list"   inline=true  -32601 | inlineStateless=true  -32601 -32601
full=false "resources/read"             inline=false -32601 | inlineStateless=false -32601 -32601
full=false "resources/subscribe"        inline=true  -32601 | inlineStateless=false -32601 -32601
full=false "resources/unsubscribe"      inline=true  -32601 | inlineStateless=false -32601 -32601
full=false "completion/complete"        inline=false -32601 | inlineStateless=false -32601 -32601
full=false "server/discover"            inline=true  -32601 | inlineStateless=true  -32602      0
full=false "subscriptions/listen"       inline=true  -32601 | inlineStateless=false -32602 -32602
full=false "tasks/get"                  inline=false -32601 | inlineStateless=false -32601 -32601
full=false "tasks/update"               inline=true  -32601 | inlineStateless=false -32601 -32601
full=false "tasks/cancel"               inline=false -32601 | inlineStateless=false -32601 -32601
full=false "tasks/result"               inline=false -32601 | inlineStateless=false -32601 -32601
full=false "tasks/list"                 inline=true  -32601 | inlineStateless=false -32601 -32601
full=false "notifications/initialized"  inline=true  -32601 | inlineStateless=false -32601 -32601
full=false "nope"                       inline=true  -32601 | inlineStateless=false -32601 -32601
full=false ""                           inline=true  -32601 | inlineStateless=false -32601 -32601
full=true  "initialize"                 inline=true  -32601 | inlineStateless=false -32601 -32601
full=true  "ping"                       inline=true       0 | inlineStateless=false -32601 -32601
full=true  "logging/setLevel"           inline=true  -32602 | inlineStateless=false -32601 -32601
full=true  "tools/list"                 inline=true       0 | inlineStateless=true  -32602      0
full=true  "tools/call"                 inline=false -32602 | inlineStateless=false -32602 -32602
full=true  "prompts/list"               inline=true       0 | inlineStateless=true  -32602      0
full=true  "prompts/get"                inline=false -32602 | inlineStateless=false -32602 -32602
full=true  "resources/list"             inline=true       0 | inlineStateless=true  -32602      0
full=true  "resources/templates/list"   inline=true       0 | inlineStateless=true  -32602      0
full=true  "resources/read"             inline=false -32602 | inlineStateless=false -32602 -32602
full=true  "resources/subscribe"        inline=true  -32602 | inlineStateless=false -32601 -32601
full=true  "resources/unsubscribe"      inline=true  -32602 | inlineStateless=false -32601 -32601
full=true  "completion/complete"        inline=false -32602 | inlineStateless=false -32602 -32602
full=true  "server/discover"            inline=true  -32601 | inlineStateless=true  -32602      0
full=true  "subscriptions/listen"       inline=true  -32601 | inlineStateless=false -32602 -32602
full=true  "tasks/get"                  inline=false -32602 | inlineStateless=false -32602 -32602
full=true  "tasks/update"               inline=true  -32601 | inlineStateless=false -32602 -32602
full=true  "tasks/cancel"               inline=false -32602 | inlineStateless=false -32602 -32602
full=true  "tasks/result"               inline=false -32602 | inlineStateless=false -32601 -32601
full=true  "tasks/list"                 inline=true       0 | inlineStateless=false -32601 -32601
full=true  "notifications/initialized"  inline=true  -32601 | inlineStateless=false -32601 -32601
full=true  "nope"                       inline=true  -32601 | inlineStateless=false -32601 -32601
full=true  ""                           inline=true  -32601 | inlineStateless=false -32601 -32601
`

// BenchmarkInline measures Server.Inline and Server.InlineStateless, the
// per-request lookups of the transport, over a mix of methods (ns/op is
// for the whole mix of len(inlineMix) lookups).
//
// go test ./mcp -run='^$' -bench=BenchmarkInline -benchmem -count=10
func BenchmarkInline(b *testing.B) {
	s := methodsServer(true)
	defer s.Close()
	inlineMix := []string{"tools/call", "ping", "tools/list", "resources/read", "notifications/initialized", "nope", "prompts/get", "completion/complete"}
	for _, era := range []struct {
		name   string
		inline func(string) bool
	}{
		{"legacy", s.Inline},
		{"stateless", s.InlineStateless},
	} {
		b.Run("era="+era.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for _, m := range inlineMix {
					if era.inline(m) {
						n++
					}
				}
			}
			if n == 0 {
				b.Fatal("nothing inline")
			}
		})
	}
}

// BenchmarkDispatch measures Conn.Handle for requests of a legacy session
// answered inline: ping, the cached tools/list, and an unknown method.
//
// go test ./mcp -run='^$' -bench=BenchmarkDispatch -benchmem -count=10
func BenchmarkDispatch(b *testing.B) {
	_, conn := methodsSession(b, true)
	for _, c := range []struct {
		name, method string
		code         int64
	}{
		{"ping", "ping", 0},
		{"tools-list", "tools/list", 0},
		{"unknown", "nope", jsonrpc.CodeMethodNotFound},
	} {
		b.Run("method="+c.name, func(b *testing.B) {
			call := &mcp.Call{Session: conn.State(), Method: c.method, ID: json.RawMessage(`1`), Out: discard{}}
			b.ReportAllocs()
			var got int64
			for b.Loop() {
				got = code(conn.Handle(call))
			}
			if got != c.code {
				b.Fatalf("Handle(%s) code %d, want %d", c.method, got, c.code)
			}
		})
	}
}
