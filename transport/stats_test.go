package transport

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/mcp"
)

// TestOpenStreams checks that OpenStreams counts a GET stream and a POST
// response being written as SSE, and drops each when it ends.
func TestOpenStreams(t *testing.T) {
	ts := newTestServer(t, nil)
	want := func(n int) {
		t.Helper()
		testutil.WaitFor(t, 5*time.Second, func() error {
			if got := ts.h.OpenStreams(); got != n {
				return fmt.Errorf("OpenStreams() = %d, want %d", got, n)
			}
			return nil
		})
	}
	want(0)
	sid := ts.initialize(t, mcp.Version20251125)
	want(0)

	getResp, get := ts.openSSE(t, http.MethodGet, sid, "")
	get.expectPriming(t, "0_0")
	want(1)

	g := ts.gate("stats")
	_, post := ts.openSSE(t, http.MethodPost, sid, callBody(2, "notify", `{"count":1,"gate":"stats","gateAfter":1}`))
	g.waitStarted(t)
	want(2)
	g.Release()
	post.readAll(t) // the response ends the stream
	want(1)

	getResp.Body.Close()
	statusCase{name: "end", method: "DELETE", sid: sid, status: 204}.check(t, ts)
	want(0)
}
