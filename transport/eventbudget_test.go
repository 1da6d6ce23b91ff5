package transport

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mcpfiber/mcpfiber/jsonrpc"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// dataEvents keeps the events that carry data (not keep-alive comments).
func dataEvents(evs []sseEvent) []sseEvent {
	var out []sseEvent
	for _, e := range evs {
		if e.HasData && e.Data != "" {
			out = append(out, e)
		}
	}
	return out
}

// checkConsecutive checks that evs have the IDs <stream>_<from>,
// <stream>_<from+1>, … and returns the sequence number of the last one
// (from-1 if none).
func checkConsecutive(t *testing.T, evs []sseEvent, stream, from uint64) uint64 {
	t.Helper()
	for i, e := range evs {
		if want := fmt.Sprintf("%d_%d", stream, from+uint64(i)); e.ID != want {
			t.Fatalf("event %d: id %q, want %q (a gap)", i, e.ID, want)
		}
	}
	return from + uint64(len(evs)) - 1
}

// checkEventsGone checks that a GET resuming after lastID gets 400 with
// refusals[refuseEventsGone].body.
func checkEventsGone(t *testing.T, ts *testServer, sid, lastID string) {
	t.Helper()
	r := statusCase{name: "Last-Event-ID " + lastID + " (dropped)", method: "GET", sid: sid,
		hdr: []string{"Last-Event-ID", lastID}, status: 400, code: jsonrpc.CodeServerError}.check(t, ts)
	if string(r.body) != string(refusals[refuseEventsGone].body) {
		t.Fatalf("GET after %s: body %s, want %s", lastID, r.body, refusals[refuseEventsGone].body)
	}
}

// TestResumeAfterEventsDropped: a Last-Event-ID whose following events are
// no longer all kept (MaxStreamEventBytes) gets 400 and refusals[refuseEventsGone].body,
// not a replay with a gap; one whose following events are all kept
// replays them.
func TestResumeAfterEventsDropped(t *testing.T) {
	ts := newTestServer(t, &Options{Sessions: sessions.Options{MaxStreamEventBytes: 300}})
	sid := ts.initialize(t, mcp.Version20251125)
	st := ts.state(t, sid)
	const total = 10
	for n := 1; n <= total; n++ {
		if err := st.Send(fmt.Appendf(nil, logMsg, n)); err != nil {
			t.Fatal(err)
		}
	}
	get := ts.h.Sessions().Lookup(sid).Stream(0)
	oldest := uint64(1) // the first event kept
	for !get.CanResume(oldest - 1) {
		oldest++
	}
	if oldest < 4 || oldest > total-1 {
		t.Fatalf("the GET stream keeps events %d..%d of %d messages of ~90 bytes in 300 bytes", oldest, total, total)
	}
	checkEventsGone(t, ts, sid, "0_0")
	checkEventsGone(t, ts, sid, fmt.Sprintf("0_%d", oldest-2))

	last := fmt.Sprintf("0_%d", oldest-1)
	resp, resumed := ts.openSSE(t, http.MethodGet, sid, "", "Last-Event-ID", last)
	resumed.expectPriming(t, last)
	checkNotifications(t, resumed.take(t, int(total-oldest+1)), 0, oldest, int(oldest))
	resp.Body.Close()
	// Unknown and future events still get refusals[refuseBadEventID].body.
	for _, id := range []string{fmt.Sprintf("0_%d", total+1), "9_1"} {
		r := ts.do(t, http.MethodGet, sid, "", "Last-Event-ID", id)
		if r.status != http.StatusBadRequest || string(r.body) != string(refusals[refuseBadEventID].body) {
			t.Errorf("Last-Event-ID %s: status %d body %s, want 400 %s", id, r.status, r.body, refusals[refuseBadEventID].body)
		}
	}
}

// bigChunk and bigCount make 64 MiB of events: more than the socket
// buffers between a writer and a client that reads nothing can hold (a few
// MiB on loopback), so the writer blocks with the stream's 1 MiB budget
// long overrun.
const (
	bigChunk = 256 << 10
	bigCount = 256
)

// TestLiveGETStreamEndsOnDroppedEvents: a GET stream (written by an
// sseConn) whose client reads nothing while 64 MiB are sent falls behind
// the stream's 1 MiB budget. The client gets the events up to the gap,
// with no gap, then the end of the response (the first two were read
// live); resuming from there gets 400
// refusals[refuseEventsGone].body, and resuming from a kept event replays the rest.
func TestLiveGETStreamEndsOnDroppedEvents(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	st := ts.state(t, sid)
	_, get := ts.openSSE(t, http.MethodGet, sid, "")
	get.expectPriming(t, "0_0")
	msg := []byte(`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"` +
		strings.Repeat("x", bigChunk) + `"}}`)
	for i := range bigCount {
		if err := st.Send(msg); err != nil { // shared: the log only references it
			t.Fatal(err)
		}
		if i == 1 {
			get.take(t, 2) // the first two arrive: the stream is live
		}
	}
	evs := dataEvents(get.readAll(t))
	last := checkConsecutive(t, evs, 0, 3)
	if last >= bigCount {
		t.Fatalf("the client read all %d events: the writer never fell behind", last)
	}
	t.Logf("read %d of %d events before the end", last, bigCount)
	checkEventsGone(t, ts, sid, fmt.Sprintf("0_%d", last))

	from := fmt.Sprintf("0_%d", bigCount-1)
	resp, resumed := ts.openSSE(t, http.MethodGet, sid, "", "Last-Event-ID", from)
	resumed.expectPriming(t, from)
	checkConsecutive(t, resumed.take(t, 1), 0, bigCount)
	resp.Body.Close()
}

// TestLivePOSTStreamEndsOnDroppedEvents: the same on a POST's SSE stream
// (written by writeSSE): the tool sends 64 MiB of notifications to a
// client that reads nothing, then its response. The client reads up to
// the gap and the response ends; resuming from there gets 400
// refusals[refuseEventsGone].body; the final response, the newest event, is kept and
// replays after the event before it.
func TestLivePOSTStreamEndsOnDroppedEvents(t *testing.T) {
	ts := newTestServer(t, nil)
	big := strings.Repeat("x", bigChunk)
	ts.srv.AddTool(&mcp.Tool{Name: "big", InputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			for i := range bigCount {
				if err := req.Log(mcp.LevelInfo, "big", big); err != nil {
					return nil, err
				}
				if i == 1 { // the client reads the first two, then reads nothing
					g := ts.gate("big")
					g.markStarted()
					select {
					case <-g.release:
					case <-ctx.Done():
						return nil, ctx.Err()
					}
				}
			}
			return &mcp.CallToolResult{Content: []mcp.Content{mcp.TextContent("done")}}, nil
		})
	sid := ts.initialize(t, mcp.Version20251125)
	_, post := ts.openSSE(t, http.MethodPost, sid, callBody(2, "big", `{}`))
	priming, err := post.nextMessage()
	if err != nil {
		t.Fatal(err)
	}
	stream, _ := parseID(t, priming.ID)
	checkConsecutive(t, post.take(t, 2), stream, 1)
	ts.gate("big").Release()
	s := ts.h.Sessions().Lookup(sid).Stream(stream)
	if s == nil {
		t.Fatalf("stream %d not retained", stream)
	}
	waitFor(t, 20*time.Second, func() error {
		if n := s.Last(); n < bigCount+1 {
			return fmt.Errorf("stream %d has %d events, want %d", stream, n, bigCount+1)
		}
		return nil
	})
	evs := dataEvents(post.readAll(t))
	last := checkConsecutive(t, evs, stream, 3)
	if last >= bigCount {
		t.Fatalf("the client read %d events: the writer never fell behind", last)
	}
	t.Logf("read %d of %d events before the end", last, bigCount+1)
	checkEventsGone(t, ts, sid, fmt.Sprintf("%d_%d", stream, last))

	from := fmt.Sprintf("%d_%d", stream, bigCount)
	_, resumed := ts.openSSE(t, http.MethodGet, sid, "", "Last-Event-ID", from)
	resumed.expectPriming(t, from)
	rest := dataEvents(resumed.readAll(t))
	checkConsecutive(t, rest, stream, bigCount+1)
	if len(rest) != 1 || !decodeMessage(t, rest[0].Data).isResponse("2") {
		t.Fatalf("resumed after %s: %v, want the response to id 2", from, rest)
	}
}

// TestRefusalEventsGone: the refusal has its own reason for observers.
func TestRefusalEventsGone(t *testing.T) {
	if r := refusals[refuseEventsGone]; r.status != http.StatusBadRequest || r.reason != RefusalEventsGone || r.reason.String() != "events_gone" {
		t.Fatalf("refusals[refuseEventsGone] = %d %v (%s), want 400 RefusalEventsGone (events_gone)", r.status, r.reason, r.reason)
	}
	if e := decodeError(t, refusals[refuseEventsGone].body); e.Error.Code != jsonrpc.CodeServerError || !strings.Contains(e.Error.Message, "no longer kept") {
		t.Fatalf("refusals[refuseEventsGone].body = %s", refusals[refuseEventsGone].body)
	}
}
