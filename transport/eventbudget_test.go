package transport

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

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

// checkIncreasing checks that evs have IDs <stream>_<seq> with seq
// increasing, and returns the sequence numbers.
func checkIncreasing(t *testing.T, evs []sseEvent, stream uint64) []uint64 {
	t.Helper()
	seqs := make([]uint64, len(evs))
	for i, e := range evs {
		st, seq := parseID(t, e.ID)
		if st != stream || i > 0 && seq <= seqs[i-1] {
			t.Fatalf("event %d: id %q after %v: want stream %d, increasing", i, e.ID, seqs[:i], stream)
		}
		seqs[i] = seq
	}
	return seqs
}

// hasGap reports whether seqs skip a number.
func hasGap(seqs []uint64) bool {
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			return true
		}
	}
	return false
}

// takeUntil reads r's messages until the one with ID id, and returns them
// all (id's included).
func (r *sseReader) takeUntil(t testing.TB, id string) []sseEvent {
	t.Helper()
	var evs []sseEvent
	for {
		e, err := r.nextMessage()
		if err != nil {
			t.Fatalf("reading SSE until %s, after %d events: %v", id, len(evs), err)
		}
		if e.HasData && e.Data != "" {
			evs = append(evs, e)
		}
		if e.ID == id {
			return evs
		}
	}
}

// TestResumeAfterEventsDropped: a Last-Event-ID whose following events are
// no longer all kept (MaxStreamEventBytes) is served: the replay starts at
// the oldest event kept, which a resuming client takes over a refusal
// (2025-11-25 basic/transports §Resumability and Redelivery lets a server
// replay what it can; the Go SDK's client fails its whole session on a
// refused reconnection). One whose following events are all kept replays
// exactly those.
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
	for _, last := range []string{"0_0", fmt.Sprintf("0_%d", oldest-2), fmt.Sprintf("0_%d", oldest-1)} {
		resp, resumed := ts.openSSE(t, http.MethodGet, sid, "", "Last-Event-ID", last)
		resumed.expectPriming(t, last)
		checkNotifications(t, resumed.take(t, int(total-oldest+1)), 0, oldest, int(oldest))
		resp.Body.Close()
	}
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

// TestLiveGETStreamGoesOnAfterDroppedEvents: a GET stream (written by an
// sseConn) whose client reads nothing while 64 MiB are sent falls behind
// the stream's 1 MiB budget. The stream is not ended: once the client
// reads again it gets what was kept, after a gap, up to the newest event,
// and its session keeps working.
func TestLiveGETStreamGoesOnAfterDroppedEvents(t *testing.T) {
	ts := newTestServer(t, nil)
	sid := ts.initialize(t, mcp.Version20251125)
	st := ts.state(t, sid)
	resp, get := ts.openSSE(t, http.MethodGet, sid, "")
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
	seqs := append([]uint64{2}, checkIncreasing(t, get.takeUntil(t, fmt.Sprintf("0_%d", bigCount)), 0)...) // after the two read live
	if !hasGap(seqs) {
		t.Fatalf("the client read every event (%d): the writer never fell behind", len(seqs))
	}
	t.Logf("read %d of %d events, after a gap", len(seqs)+1, bigCount)
	resp.Body.Close()
	if r := ts.do(t, http.MethodPost, sid, `{"jsonrpc":"2.0","id":9,"method":"ping"}`); r.status != http.StatusOK {
		t.Fatalf("ping after the gap: %d %s", r.status, r.body)
	}
}

// TestLivePOSTStreamGoesOnAfterDroppedEvents: the same on a POST's SSE
// stream (written by writeSSE): the tool sends 64 MiB of notifications to
// a client that reads nothing, then its response. The client reads what
// was kept, after a gap, and the response: the newest event is always
// kept.
func TestLivePOSTStreamGoesOnAfterDroppedEvents(t *testing.T) {
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
	first := checkIncreasing(t, post.take(t, 2), stream)
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
	seqs := append(first[1:], checkIncreasing(t, evs, stream)...) // after the two read live
	if !hasGap(seqs) {
		t.Fatalf("the client read every event (%d): the writer never fell behind", len(seqs))
	}
	if len(evs) == 0 {
		t.Fatal("nothing after the first two events")
	}
	if last := evs[len(evs)-1]; !decodeMessage(t, last.Data).isResponse("2") || seqs[len(seqs)-1] != bigCount+1 {
		t.Fatalf("the stream ends with %s (%s), want the response to id 2", last.ID, last.Data[:min(len(last.Data), 80)])
	}
}
