package transport

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// TestShutdownAnswersRunningCalls: calls still running when the grace
// period ends are answered with a JSON-RPC error in place of their
// response, on their POST's JSON answer and on its SSE stream, which then
// ends with its final chunk, instead of a cut connection (issue #14, the
// last item). Shutdown reports that the grace period ran out, and returns
// when the grace period less the final window (MaxFinalWindow, here a
// tenth of 1s) is over: in fake time, exactly 900ms after it began.
func TestShutdownAnswersRunningCalls(t *testing.T) { inBubble(t, testShutdownAnswersRunningCalls) }

func testShutdownAnswersRunningCalls(t *testing.T) {
	ts := newBubbleServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)

	jsonCall := ts.doAsync(t, "POST", sid, callBody(1, "block", `{"gate":"j"}`))
	// notify sends one log message (so the answer is an SSE stream), then
	// waits on its gate.
	sseCall := ts.doAsync(t, "POST", sid, callBody(2, "notify", `{"count":2,"gate":"s","gateAfter":1}`))
	ts.gate("j").waitStarted(t)
	ts.gate("s").waitStarted(t)

	const grace = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	start := time.Now()
	if err := ts.h.Shutdown(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the deadline exceeded", err)
	}
	if took, want := time.Since(start), grace-min(MaxFinalWindow, grace/10); took != want {
		t.Errorf("Shutdown took %v with a %v deadline, want %v", took, grace, want)
	}

	const want = "the server shut down before the request completed"
	j := await(t, jsonCall)
	if j.status != 200 || mediaType(j.header.Get("Content-Type")) != ctJSONValue {
		t.Fatalf("JSON call: status %d %s: %s", j.status, j.header.Get("Content-Type"), j.body)
	}
	if e := decodeError(t, j.body); e.Error == nil || string(e.ID) != "1" || !strings.Contains(e.Error.Message, want) {
		t.Errorf("JSON call answered %s, want an error for id 1 saying %q", j.body, want)
	}

	// await fails on a read error: the SSE body was read to its final
	// chunk.
	s := await(t, sseCall)
	if mediaType(s.header.Get("Content-Type")) != ctSSEValue {
		t.Fatalf("SSE call: %s: %s", s.header.Get("Content-Type"), s.body)
	}
	evs := newSSEReader(strings.NewReader(string(s.body))).readAll(t)
	var last message
	for _, e := range evs {
		if e.Data != "" {
			last = decodeMessage(t, e.Data)
		}
	}
	if !last.isResponse("2") || !strings.Contains(string(last.Error), want) {
		t.Errorf("the SSE stream's last event is %+v, want the error response for id 2 saying %q", last, want)
	}
}
