package transport

import (
	"strings"
	"testing"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// TestNoHTMLEscapeAmplification: a tool result that echoes '<', '>' and
// '&' is sent as those bytes, the way other MCP SDKs send them, not as
// \u003c, \u003e and \u0026, which made a 4 MiB request of '<' a 25 MiB
// response that a client could leave unread (issue #14, item 3). JSON and
// SSE answers alike.
func TestNoHTMLEscapeAmplification(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	msg := strings.Repeat("<&>", 100_000) // 300 000 bytes
	for _, accept := range []string{"application/json", "text/event-stream"} {
		r := ts.do(t, "POST", sid, callBody(1, "echo", `{"message":"`+msg+`"}`), "Accept", accept)
		if r.status != 200 {
			t.Fatalf("Accept %s: status %d: %.200s", accept, r.status, r.body)
		}
		if !strings.Contains(string(r.body), msg) {
			t.Errorf("Accept %s: the echoed text is not in the answer as sent (escaped?): %.120s", accept, r.body)
		}
		if n := len(r.body); n > len(msg)+1024 {
			t.Errorf("Accept %s: a %d-byte message came back as %d bytes", accept, len(msg), n)
		}
	}
}
