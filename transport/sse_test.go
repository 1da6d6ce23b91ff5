package transport

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// openSSE sends a request that must be answered with 200 text/event-stream
// and returns the response and a reader of its events.
func (ts *testServer) openSSE(t testing.TB, method, sid, body string, hdr ...string) (*http.Response, *sseReader) {
	t.Helper()
	resp := ts.open(t, method, sid, body, hdr...)
	if resp.StatusCode != http.StatusOK || mediaType(resp.Header.Get("Content-Type")) != ctSSEValue {
		t.Fatalf("%s: status %d, Content-Type %q; want 200 text/event-stream", method, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-cache") {
		t.Errorf("%s: Cache-Control %q, want no-cache", method, cc)
	}
	return resp, newSSEReader(resp.Body)
}

// take reads the next n events that carry data (skipping keep-alives).
func (r *sseReader) take(t testing.TB, n int) []sseEvent {
	t.Helper()
	evs := make([]sseEvent, 0, n)
	for len(evs) < n {
		e, err := r.nextMessage()
		if err != nil {
			t.Fatalf("reading SSE after %v: %v", evs, err)
		}
		evs = append(evs, e)
	}
	return evs
}

// expectPriming reads the priming event of a stream: an event ID, a retry
// field and empty data (2025-11-25 basic/transports §Sending Messages to
// the Server, item 6). It returns the event ID.
func (r *sseReader) expectPriming(t testing.TB, wantID string) {
	t.Helper()
	e, err := r.nextMessage()
	if err != nil {
		t.Fatalf("reading the priming event: %v", err)
	}
	if e.ID != wantID || e.Retry != "3000" || !e.HasData || e.Data != "" {
		t.Fatalf("priming event %v: want id %q, retry 3000 and empty data", e, wantID)
	}
}

// parseID splits an event ID "<stream>_<seq>".
func parseID(t testing.TB, id string) (stream, seq uint64) {
	t.Helper()
	stream, seq, ok := sessions.ParseEventID([]byte(id))
	if !ok {
		t.Fatalf("event ID %q is not <stream>_<seq>", id)
	}
	return stream, seq
}

// checkNotifications checks that evs are notifications/message events of
// one stream with data n = from, from+1, … and consecutive sequence numbers
// starting at seq.
func checkNotifications(t testing.TB, evs []sseEvent, stream, seq uint64, from int) {
	t.Helper()
	for i, e := range evs {
		if want := fmt.Sprintf("%d_%d", stream, seq+uint64(i)); e.ID != want {
			t.Errorf("event %d: id %q, want %q", i, e.ID, want)
		}
		if e.Event != "message" {
			t.Errorf("event %d: event %q, want message", i, e.Event)
		}
		m := decodeMessage(t, e.Data)
		if m.Method != "notifications/message" || string(m.Params.Data) != fmt.Sprintf(`{"n":%d}`, from+i) {
			t.Errorf("event %d: %s, want notifications/message with n=%d", i, e.Data, from+i)
		}
	}
}

const logMsg = `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":{"n":%d}}}`

// TestResponseMode checks how a POST with a request is answered: JSON when
// the request sends nothing first; SSE when it sends a notification first,
// with the notifications in order and then the response, under event IDs
// "<stream>_<seq>" with increasing seq; SSE when the client takes only
// text/event-stream.
func TestResponseMode(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)

	t.Run("nothing first", func(t *testing.T) {
		r := statusCase{name: "echo", method: "POST", sid: sid, body: callBody(2, "echo", `{"message":"hello"}`), status: 200}.check(t, ts)
		m := decodeMessage(t, string(r.body))
		if !m.isResponse("2") || !strings.Contains(string(m.Result), `"hello"`) {
			t.Errorf("body %s: want the echo result for id 2", r.body)
		}
	})
	t.Run("notification first", func(t *testing.T) {
		_, sse := ts.openSSE(t, http.MethodPost, sid, callBody(3, "notify", `{"count":3}`))
		evs := sse.readAll(t)
		if len(evs) != 5 {
			t.Fatalf("events %v: want priming, 3 notifications and the response", evs)
		}
		stream, seq := parseID(t, evs[0].ID)
		if seq != 0 || stream == 0 {
			t.Fatalf("priming event ID %q: want <stream>_0 of a POST stream", evs[0].ID)
		}
		checkNotifications(t, evs[1:4], stream, 1, 1)
		last := evs[4]
		if want := fmt.Sprintf("%d_4", stream); last.ID != want {
			t.Errorf("response event ID %q, want %q", last.ID, want)
		}
		if m := decodeMessage(t, last.Data); !m.isResponse("3") || !strings.Contains(string(m.Result), "sent 3") {
			t.Errorf("last event %s: want the response to id 3", last.Data)
		}
		// A second SSE POST gets the next stream ID.
		_, sse2 := ts.openSSE(t, http.MethodPost, sid, callBody(4, "notify", `{"count":1}`))
		evs2 := sse2.readAll(t)
		if s2, _ := parseID(t, evs2[0].ID); s2 <= stream {
			t.Errorf("second stream ID %d, want > %d", s2, stream)
		}
	})
	t.Run("progress tool", func(t *testing.T) {
		_, sse := ts.openSSE(t, http.MethodPost, sid,
			`{"jsonrpc":"2.0","id":"p","method":"tools/call","params":{"name":"progress","arguments":{"steps":2,"intervalMs":0},"_meta":{"progressToken":"tok"}}}`)
		evs := sse.readAll(t)
		var methods []string
		for _, e := range evs[1:] {
			m := decodeMessage(t, e.Data)
			methods = append(methods, m.Method)
		}
		want := "notifications/progress,notifications/message,notifications/progress,notifications/message,"
		if got := strings.Join(methods, ","); got != want {
			t.Errorf("methods %q, want %q", got, want)
		}
		if m := decodeMessage(t, evs[len(evs)-1].Data); !m.isResponse(`"p"`) {
			t.Errorf("last event %s: want the response to \"p\"", evs[len(evs)-1].Data)
		}
	})
	t.Run("SSE only", func(t *testing.T) {
		_, sse := ts.openSSE(t, http.MethodPost, sid, pingBody, "Accept", ctSSEValue)
		evs := sse.readAll(t)
		if len(evs) != 2 || evs[0].Data != "" || !decodeMessage(t, evs[1].Data).isResponse("1") {
			t.Fatalf("events %v: want priming and the ping response", evs)
		}
	})
}

// TestJSONResponseMode checks Options.JSONResponse: a request that sends
// notifications is answered with application/json, and its notifications
// go to the session's GET stream.
func TestJSONResponseMode(t *testing.T) {
	ts := newTestServer(t, &Options{JSONResponse: true})
	sid := ts.initialize(t, mcp.Version20251125)
	_, get := ts.openSSE(t, http.MethodGet, sid, "")
	get.expectPriming(t, "0_0")
	r := statusCase{name: "notify", method: "POST", sid: sid, body: callBody(2, "notify", `{"count":2}`), status: 200}.check(t, ts)
	if m := decodeMessage(t, string(r.body)); !m.isResponse("2") || !strings.Contains(string(m.Result), "sent 2") {
		t.Errorf("body %s: want the response to id 2", r.body)
	}
	checkNotifications(t, get.take(t, 2), 0, 1, 1)
}

// TestJSONOnlyClient checks a client whose Accept admits only
// application/json: a request that sends notifications is answered with
// JSON, and the notifications go to the GET stream.
func TestJSONOnlyClient(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	r := statusCase{name: "notify", method: "POST", sid: sid, body: callBody(2, "notify", `{"count":2}`), hdr: []string{"Accept", ctJSONValue}, status: 200}.check(t, ts)
	if m := decodeMessage(t, string(r.body)); !m.isResponse("2") {
		t.Errorf("body %s: want the response to id 2", r.body)
	}
	_, get := ts.openSSE(t, http.MethodGet, sid, "")
	get.expectPriming(t, "0_0")
	checkNotifications(t, get.take(t, 2), 0, 1, 1)
}

// TestPriming checks that priming events (event ID, retry, empty data)
// come first on POST and GET streams of sessions at 2025-11-25 only: older
// clients fail on empty data.
func TestPriming(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, v := range []string{mcp.Version20251125, mcp.Version20250618, mcp.Version20250326} {
		t.Run(v, func(t *testing.T) {
			sid := ts.initialize(t, v)
			priming := v == mcp.Version20251125

			_, sse := ts.openSSE(t, http.MethodPost, sid, callBody(2, "notify", `{"count":1}`))
			evs := sse.readAll(t)
			n := 2
			if priming {
				n = 3
				stream, _ := parseID(t, evs[0].ID)
				if want := fmt.Sprintf("%d_0", stream); evs[0].ID != want || evs[0].Retry != "3000" || evs[0].Data != "" {
					t.Errorf("POST: first event %v: want priming %s", evs[0], want)
				}
			}
			if len(evs) != n {
				t.Fatalf("POST: events %v: want %d", evs, n)
			}
			for _, e := range evs[len(evs)-2:] {
				if e.Data == "" || e.Retry != "" {
					t.Errorf("POST: event %v: want a message without retry", e)
				}
			}

			// A message sent before the GET opens makes the first event
			// deterministic.
			if err := ts.state(t, sid).Send(fmt.Appendf(nil, logMsg, 1)); err != nil {
				t.Fatal(err)
			}
			_, get := ts.openSSE(t, http.MethodGet, sid, "")
			if priming {
				get.expectPriming(t, "0_0")
			}
			checkNotifications(t, get.take(t, 1), 0, 1, 1)
		})
	}
}

// TestGETHeadersWithoutEvents checks that a GET stream's response headers
// reach the client at once even when there is nothing to send yet: no
// priming event (a session before 2025-11-25) and no keep-alive. A client
// that waits for the headers before reading must not hang.
func TestGETHeadersWithoutEvents(t *testing.T) {
	ts := newTestServer(t, &Options{KeepAlive: -1})
	sid := ts.initialize(t, mcp.Version20250618)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req := ts.request(t, http.MethodGet, sid, "")
	resp, err := ts.client.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("GET: no response headers within 3s with nothing to send: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || mediaType(resp.Header.Get("Content-Type")) != ctSSEValue {
		t.Fatalf("GET: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if err := ts.state(t, sid).Send(fmt.Appendf(nil, logMsg, 1)); err != nil {
		t.Fatal(err)
	}
	checkNotifications(t, newSSEReader(resp.Body).take(t, 1), 0, 1, 1)
}

// TestKeepAlive checks that open streams carry SSE comments every
// Options.KeepAlive: the GET stream, and a POST stream waiting on its tool.
// In fake time each comes exactly one interval after the one before (the
// first, one interval after the stream opened).
func TestKeepAlive(t *testing.T) {
	const interval = 20 * time.Millisecond
	waitKeepAlives := func(t *testing.T, r *sseReader) {
		t.Helper()
		last := time.Now()
		for i := 1; i <= 3; { // three in a row: they repeat
			e, err := r.next()
			if err != nil {
				t.Fatalf("reading SSE: %v", err)
			}
			if e.Comment == "keepalive" && !e.HasData {
				if d := time.Since(last); d != interval {
					t.Errorf("keep-alive %d came %v after the one before, want %v", i, d, interval)
				}
				last = time.Now()
				i++
			}
		}
	}
	t.Run("GET", func(t *testing.T) {
		inBubble(t, func(t *testing.T) {
			ts := newBubbleServer(t, &Options{KeepAlive: interval})
			sid := ts.initialize(t, mcp.Version20251125)
			_, get := ts.openSSE(t, http.MethodGet, sid, "")
			waitKeepAlives(t, get)
		})
	})
	t.Run("POST", func(t *testing.T) {
		inBubble(t, func(t *testing.T) {
			ts := newBubbleServer(t, &Options{KeepAlive: interval})
			sid := ts.initialize(t, mcp.Version20251125)
			_, sse := ts.openSSE(t, http.MethodPost, sid, callBody(2, "notify", `{"count":1,"gate":"ka","gateAfter":1}`))
			ts.gate("ka").waitStarted(t)
			waitKeepAlives(t, sse)
			ts.gate("ka").Release()
			evs := sse.readAll(t)
			if len(evs) == 0 || !decodeMessage(t, evs[len(evs)-1].Data).isResponse("2") {
				t.Errorf("after the keep-alives: %v, want the response last", evs)
			}
		})
	})
}

// TestGETStream checks that the GET stream carries what
// SessionState.Send sends, including messages sent before it opened, in
// order, with event IDs 0_1, 0_2, ….
func TestGETStream(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	st := ts.state(t, sid)
	if err := st.Send(fmt.Appendf(nil, logMsg, 1)); err != nil {
		t.Fatal(err)
	}
	_, get := ts.openSSE(t, http.MethodGet, sid, "")
	get.expectPriming(t, "0_0")
	for n := 2; n <= 3; n++ {
		if err := st.Send(fmt.Appendf(nil, logMsg, n)); err != nil {
			t.Fatal(err)
		}
	}
	checkNotifications(t, get.take(t, 3), 0, 1, 1)

	// After DELETE the state refuses to send.
	statusCase{name: "end", method: "DELETE", sid: sid, status: 204}.check(t, ts)
	if err := st.Send(fmt.Appendf(nil, logMsg, 4)); err == nil {
		t.Error("SessionState.Send after DELETE: nil error, want one")
	}
}

// TestResumePOSTStream drops a POST's SSE connection after its first event
// and resumes with GET and Last-Event-ID: the rest of that stream comes,
// the final response included, and nothing of the session's other streams.
func TestResumePOSTStream(t *testing.T) {
	for _, mode := range []string{"takeover", "replay"} {
		t.Run("mode="+mode, func(t *testing.T) {
			// replay: the server notices the dropped connection (a short
			// keep-alive makes it write) before the rest is produced.
			ts := newTestServer(t, &Options{KeepAlive: 10 * time.Millisecond})
			sid := ts.initialize(t, mcp.Version20251125)
			st := ts.state(t, sid)

			// Other streams with events: the GET stream (0) and a POST
			// stream left open.
			if err := st.Send(fmt.Appendf(nil, logMsg, 100)); err != nil {
				t.Fatal(err)
			}
			_, other := ts.openSSE(t, http.MethodPost, sid, callBody(9, "notify", `{"count":2,"gate":"other","gateAfter":1}`))
			other.take(t, 2)

			g := ts.gate("main")
			resp, sse := ts.openSSE(t, http.MethodPost, sid, callBody(2, "notify", `{"count":4,"gate":"main","gateAfter":1}`))
			first := sse.take(t, 2) // priming, notification 1
			stream, _ := parseID(t, first[0].ID)
			checkNotifications(t, first[1:], stream, 1, 1)
			resp.Body.Close()
			lastSeen := first[1].ID

			s := ts.h.Sessions().Lookup(sid).Stream(stream)
			if s == nil {
				t.Fatalf("stream %d is not retained", stream)
			}
			if mode == "replay" {
				waitFor(t, 10*time.Second, func() error {
					if s.Attached() {
						return errStillAttached
					}
					return nil
				})
				g.Release()
				waitFor(t, 10*time.Second, func() error {
					if s.Last() < 5 {
						return fmt.Errorf("stream %d has %d events, want 5", stream, s.Last())
					}
					return nil
				})
			}
			_, resumed := ts.openSSE(t, http.MethodGet, sid, "", "Last-Event-ID", lastSeen)
			resumed.expectPriming(t, lastSeen)
			g.Release()
			evs := resumed.readAll(t)
			if len(evs) != 4 {
				t.Fatalf("resumed events %v: want notifications 2-4 and the response", evs)
			}
			checkNotifications(t, evs[:3], stream, 2, 2)
			if want := fmt.Sprintf("%d_5", stream); evs[3].ID != want || !decodeMessage(t, evs[3].Data).isResponse("2") {
				t.Errorf("last resumed event %v: want the response to id 2 as %s", evs[3], want)
			}
			// Delivered to its end, the stream stays resumable (the flush
			// may have gone into a dead connection): resuming it again
			// replays the response, and only that.
			final := evs[3].ID
			_, again := ts.openSSE(t, http.MethodGet, sid, "", "Last-Event-ID", lastSeen)
			again.expectPriming(t, lastSeen)
			evs = again.readAll(t)
			if len(evs) != 4 || evs[3].ID != final {
				t.Fatalf("second resumption gave %v: want the same 4 events ending with %s", evs, final)
			}
		})
	}
}

// TestResumeGETStream checks that Last-Event-ID of the GET stream replays
// only the GET stream, then carries it on live.
func TestResumeGETStream(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	st := ts.state(t, sid)
	for n := 1; n <= 3; n++ {
		if err := st.Send(fmt.Appendf(nil, logMsg, n)); err != nil {
			t.Fatal(err)
		}
	}
	// A POST stream with events, left open.
	_, post := ts.openSSE(t, http.MethodPost, sid, callBody(9, "notify", `{"count":2,"gate":"post","gateAfter":1}`))
	post.take(t, 2)

	resp, get := ts.openSSE(t, http.MethodGet, sid, "")
	get.expectPriming(t, "0_0")
	checkNotifications(t, get.take(t, 3), 0, 1, 1)
	resp.Body.Close()

	_, resumed := ts.openSSE(t, http.MethodGet, sid, "", "Last-Event-ID", "0_1")
	resumed.expectPriming(t, "0_1")
	if err := st.Send(fmt.Appendf(nil, logMsg, 4)); err != nil {
		t.Fatal(err)
	}
	ts.gate("post").Release() // more events on the POST stream, which must not show here
	checkNotifications(t, resumed.take(t, 3), 0, 2, 2)
}

// TestBadLastEventID checks that a Last-Event-ID that is not an event ID,
// or names no stream or event the session has, gets 400.
func TestBadLastEventID(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	if err := ts.state(t, sid).Send(fmt.Appendf(nil, logMsg, 1)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"abc", "0", "0_", "_1", "0_1_2", "01_1", "-1_1", "0_99", "7_1", "1_0", "18446744073709551616_1", strings.Repeat("9", 50)} {
		statusCase{name: "Last-Event-ID " + strconv.Quote(id), method: "GET", sid: sid, hdr: []string{"Last-Event-ID", id},
			status: 400, code: jsonrpc.CodeServerError}.check(t, ts)
	}
	// The well-formed one works.
	_, get := ts.openSSE(t, http.MethodGet, sid, "", "Last-Event-ID", "0_0")
	get.expectPriming(t, "0_0")
	checkNotifications(t, get.take(t, 1), 0, 1, 1)
}

// TestCancel checks notifications/cancelled for a call in flight: the call
// stops and no response is sent for it, on JSON and SSE POSTs alike.
func TestCancel(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	cancel := func(t *testing.T, id string) {
		t.Helper()
		statusCase{name: "cancel", method: "POST", sid: sid, status: 202,
			body: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":` + id + `,"reason":"test"}}`}.check(t, ts)
	}
	t.Run("json", func(t *testing.T) {
		g := ts.gate("c1")
		call := ts.doAsync(t, http.MethodPost, sid, `{"jsonrpc":"2.0","id":"req-7","method":"tools/call","params":{"name":"block","arguments":{"gate":"c1"}}}`)
		g.waitStarted(t)
		cancel(t, `"req-7"`)
		r := await(t, call)
		if r.status != http.StatusAccepted || len(r.body) != 0 {
			t.Errorf("cancelled call: status %d body %q, want 202 and no response", r.status, r.body)
		}
	})
	t.Run("sse", func(t *testing.T) {
		_, sse := ts.openSSE(t, http.MethodPost, sid, callBody(8, "notify", `{"count":2,"gate":"c2","gateAfter":1}`))
		evs := sse.take(t, 2)
		stream, _ := parseID(t, evs[0].ID)
		checkNotifications(t, evs[1:], stream, 1, 1)
		ts.gate("c2").waitStarted(t)
		cancel(t, "8")
		for _, e := range sse.readAll(t) {
			if !e.HasData || e.Data == "" {
				continue
			}
			if m := decodeMessage(t, e.Data); m.isResponse("8") {
				t.Errorf("event %v: a response to the cancelled request", e)
			}
		}
	})
	t.Run("others unaffected", func(t *testing.T) {
		statusCase{name: "ping", method: "POST", sid: sid, body: pingBody, status: 200}.check(t, ts)
	})
}

// TestServerInitiatedDisconnect checks SEP-1699 (2025-11-25
// basic/transports §Sending Messages to the Server, item 6): a handler
// closes its POST stream's connection after the priming event, keeps
// working, and the client gets what followed (a notification and the
// response) by resuming with GET and Last-Event-ID. Before 2025-11-25
// there is no priming event to resume from, so the connection stays open.
func TestServerInitiatedDisconnect(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, "2025-11-25")
	g := ts.gate("sep1699")
	resp, post := ts.openSSE(t, http.MethodPost, sid, callBody(2, "disconnect", `{"gate":"sep1699"}`))
	post.expectPriming(t, "1_0")
	if evs := post.readAll(t); len(evs) != 0 {
		t.Fatalf("after the priming event the connection should close; got %v", evs)
	}
	resp.Body.Close()
	g.waitStarted(t)
	g.Release()
	waitFor(t, 5*time.Second, func() error {
		if st := ts.h.Sessions().Lookup(sid).Stream(1); st == nil || st.Last() < 2 {
			return fmt.Errorf("stream 1 has not got the response yet")
		}
		return nil
	})
	_, get := ts.openSSE(t, http.MethodGet, sid, "", "Last-Event-ID", "1_0")
	get.expectPriming(t, "1_0")
	evs := get.readAll(t)
	if len(evs) != 2 || evs[0].ID != "1_1" || evs[1].ID != "1_2" {
		t.Fatalf("resumed events %v: want the log message 1_1 and the response 1_2", evs)
	}
	if m := decodeMessage(t, evs[1].Data); !m.isResponse("2") || !strings.Contains(string(m.Result), "closed=true") {
		t.Fatalf("resumed response %s: want the response to id 2 with closed=true", evs[1].Data)
	}

	t.Run("version=2025-06-18", func(t *testing.T) {
		sid := ts.initialize(t, "2025-06-18")
		g := ts.gate("sep1699-old")
		g.Release()
		// The log message makes it an SSE answer; the response must come
		// on this same connection.
		_, post := ts.openSSE(t, http.MethodPost, sid, callBody(3, "disconnect", `{"gate":"sep1699-old"}`))
		evs := post.readAll(t)
		if len(evs) != 2 || !strings.Contains(evs[1].Data, "closed=false") {
			t.Fatalf("at 2025-06-18 the stream must stay open and carry the response: %v", evs)
		}
	})
}

// TestGETStreamNeverHandedOver checks the reaper of the keep-alive ticker:
// a GET stream whose hijacked connection fasthttp never hands over (the
// client left between request and response) must not keep the session's
// GET stream attached, or every later GET would get 409.
func TestGETStreamNeverHandedOver(t *testing.T) {
	ts := newTestServer(t, &Options{KeepAlive: 50 * time.Millisecond})
	sid := ts.initialize(t, "2025-11-25")
	s := ts.h.Sessions().Lookup(sid)
	server, client := net.Pipe()
	defer client.Close()
	ctx := &fasthttp.RequestCtx{}
	ctx.Init2(server, nil, false)
	if !ts.h.startGETStream(ctx, s, s.Standalone().TryAttachNotify) {
		t.Fatal("startGETStream refused a free GET stream")
	}
	// ctx is not served, so its hijack handler never runs.
	statusCase{name: "second GET while the first is pending", method: "GET", sid: sid, status: 409, code: jsonrpc.CodeServerError}.check(t, ts)
	waitFor(t, 5*time.Second, func() error {
		if s.Standalone().Attached() {
			return fmt.Errorf("the never-started GET stream is still attached")
		}
		return nil
	})
	_, get := ts.openSSE(t, http.MethodGet, sid, "")
	get.expectPriming(t, "0_0")
}
