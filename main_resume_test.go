package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// TestBinaryResumeAcrossNodes runs three binaries on one redis-server of
// the test's own (issue #11): a client reading the SSE stream of a POST
// (the progress tool, a burst of events) loses it, and resumes it with
// Last-Event-ID on another node. What it finally holds is every event
// once, in order, with no gap.
func TestBinaryResumeAcrossNodes(t *testing.T) {
	bin := buildBinary(t)
	t.Run("connection-broke", func(t *testing.T) { testResumeBroke(t, bin) })
	t.Run("kill-9/drained", func(t *testing.T) { testResumeKill(t, bin, true) })
	t.Run("kill-9/lost", func(t *testing.T) { testResumeKill(t, bin, false) })
	t.Run("twice", func(t *testing.T) { testResumeTwice(t, bin) })
	t.Run("kill-9/unflushed", func(t *testing.T) { testResumeUnflushed(t, bin) })
	t.Run("get-stream", func(t *testing.T) { testResumeGET(t, bin) })
	t.Run("get-stream/kill-9", func(t *testing.T) { testTakeOverGET(t, bin) })
	t.Run("redis-restart", func(t *testing.T) { testResumeRedisRestart(t, bin) })
}

// progressCallID is the JSON-RPC id of the progress call.
const progressCallID = 42

// progressBody calls the default catalogue's progress tool: steps
// notifications/progress (it has a progressToken) and as many log
// messages, interval apart, then the result.
func progressBody(steps int, interval time.Duration) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"progress","arguments":{"steps":%d,"intervalMs":%d},"_meta":{"progressToken":"p"}}}`,
		progressCallID, steps, interval.Milliseconds())
}

// An sseEvent is one event of an SSE response: its id field (the stream
// and sequence number, "<stream>_<seq>") and its data.
type sseEvent struct {
	id     string
	stream uint64
	seq    uint64
	cursor string // "<ms>-<n>", on a GET stream's events with Redis
	data   string
}

// An sseStream reads the events of one SSE response. cancel drops its
// connection.
type sseStream struct {
	resp   *http.Response
	br     *bufio.Reader
	cancel context.CancelFunc
	lastID string // the last id field read, as a client keeps it for Last-Event-ID
}

// next returns the next event with data (priming events, which have
// none, only set lastID; comments are skipped), or the error that ended
// the response (io.EOF at its end).
func (s *sseStream) next() (sseEvent, error) {
	var e sseEvent
	var data []string
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			return sseEvent{}, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if e.id != "" {
				s.lastID = e.id
			}
			if len(data) == 0 || data[0] == "" && len(data) == 1 {
				e, data = sseEvent{}, nil
				continue // a priming event, or a blank line
			}
			e.data = strings.Join(data, "\n")
			if e.id == "" {
				return sseEvent{}, fmt.Errorf("event without an id: %q", e.data)
			}
			return e, nil
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			e.id = line[len("id: "):]
			st, seq, ok := strings.Cut(e.id, "_")
			if !ok {
				return sseEvent{}, fmt.Errorf("malformed event id %q", e.id)
			}
			// A GET stream's events carry a broadcast cursor after the
			// sequence number, "_<ms>-<n>" (transport/broadcast.go).
			seq, e.cursor, _ = strings.Cut(seq, "_")
			var err1, err2 error
			e.stream, err1 = strconv.ParseUint(st, 10, 64)
			e.seq, err2 = strconv.ParseUint(seq, 10, 64)
			if err1 != nil || err2 != nil {
				return sseEvent{}, fmt.Errorf("malformed event id %q", e.id)
			}
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[len("data: "):])
		}
	}
}

// openSSE sends req on a connection of its own, with ctx bounding the
// whole response, and returns the stream if the answer is 200
// text/event-stream.
func openSSE(req *http.Request, limit time.Duration) (*sseStream, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("%s %s = %d %s %s", req.Method, req.URL, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return &sseStream{resp: resp, br: bufio.NewReader(resp.Body), cancel: func() { cancel(); resp.Body.Close() }}, nil
}

// startProgress posts the progress call on url in session sid.
func startProgress(t *testing.T, url, sid string, steps int, interval time.Duration) *sseStream {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(progressBody(steps, interval)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", v2025)
	s, err := openSSE(req, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// resumeOn sends GET with Last-Event-ID lastID on url.
func resumeOn(url, sid, lastID string, limit time.Duration) (*sseStream, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", v2025)
	req.Header.Set("Last-Event-ID", lastID)
	return openSSE(req, limit)
}

// A holding is what the client holds of one stream: the events by
// sequence number, and the duplicates it was sent.
type holding struct {
	stream uint64
	events map[uint64]string
	dups   []uint64
	final  uint64 // seq of the call's response, 0 before it
}

func newHolding() *holding { return &holding{events: map[uint64]string{}} }

// add records e, checking that it is of the same stream as the others.
func (h *holding) add(t *testing.T, e sseEvent) {
	t.Helper()
	if h.stream == 0 {
		h.stream = e.stream
	} else if e.stream != h.stream {
		t.Fatalf("event %s of another stream than %d", e.id, h.stream)
	}
	if _, ok := h.events[e.seq]; ok {
		h.dups = append(h.dups, e.seq)
	}
	h.events[e.seq] = e.data
	var m struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(e.data), &m); err != nil {
		t.Fatalf("event %s: %v: %q", e.id, err, e.data)
	}
	if m.Method == "" && string(m.ID) == strconv.Itoa(progressCallID) {
		if m.Result == nil {
			t.Fatalf("the call's response is an error: %s", e.data)
		}
		h.final = e.seq
	}
}

// read reads s until it has n events more (n < 0: to its end), adding
// them to h; it returns the events read and the error that ended s, if
// it ended.
func (h *holding) read(t *testing.T, s *sseStream, n int) (got []uint64, err error) {
	t.Helper()
	for n < 0 || len(got) < n {
		e, err := s.next()
		if err != nil {
			return got, err
		}
		h.add(t, e)
		got = append(got, e.seq)
	}
	return got, nil
}

// check reports a duplicate or a gap in 1..max: what the client holds
// must be a prefix of the stream, every event once.
func (h *holding) check(t *testing.T) {
	t.Helper()
	if len(h.dups) > 0 {
		t.Errorf("events sent twice: %v", h.dups)
	}
	var missing []uint64
	top := h.max()
	for seq := uint64(1); seq <= top; seq++ {
		if _, ok := h.events[seq]; !ok {
			missing = append(missing, seq)
		}
	}
	if len(missing) > 0 {
		t.Errorf("holding 1..%d, missing %v", top, missing)
	}
}

func (h *holding) max() uint64 {
	top := uint64(0)
	for seq := range h.events {
		top = max(top, seq)
	}
	return top
}

// lastID is the event ID of the newest event held.
func (h *holding) lastID() string {
	return strconv.FormatUint(h.stream, 10) + "_" + strconv.FormatUint(h.max(), 10)
}

// readEnd reads s to its end, which must be a clean EOF.
func (h *holding) readEnd(t *testing.T, s *sseStream) []uint64 {
	t.Helper()
	defer s.cancel()
	got, err := h.read(t, s, -1)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("resumed stream ended with %v after %d events, want its end", err, len(got))
	}
	return got
}

// progressSteps and progressInterval make a burst of about 200 events
// (100 progress notifications, 100 log messages, the response) over
// about 1 s.
const (
	progressSteps    = 100
	progressInterval = 10 * time.Millisecond
)

// testResumeBroke: the client drops the POST's connection after 30
// events (the node lives on, the call goes on) and resumes on another
// node, reading to the response.
func testResumeBroke(t *testing.T, bin string) {
	rdb := testutil.StartRedis(t)
	n := startNodes(t, bin, rdb, 3)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	for round := range 3 {
		sid := startSession(t, hc, n[0].url, n[1].url)
		h := newHolding()
		s := startProgress(t, n[round%3].url, sid, progressSteps, progressInterval)
		if _, err := h.read(t, s, 30); err != nil {
			t.Fatal(err)
		}
		s.cancel()
		r, err := resumeOn(n[(round+1)%3].url, sid, s.lastID, 20*time.Second)
		if err != nil {
			t.Fatalf("resume after %s on another node: %v", s.lastID, err)
		}
		got := h.readEnd(t, r)
		h.check(t)
		if h.final == 0 || h.final != h.max() {
			t.Errorf("round %d: response at %d, last event %d; want the response last", round, h.final, h.max())
		}
		t.Logf("round %d: %d events before the break, %d after it, on another node (%d..%d)", round, 30, len(got), got[0], got[len(got)-1])
	}
}

// testResumeTwice: break on node 1, resume on node 2, break again,
// resume on node 3.
func testResumeTwice(t *testing.T, bin string) {
	rdb := testutil.StartRedis(t)
	n := startNodes(t, bin, rdb, 3)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	sid := startSession(t, hc, n[0].url, n[1].url)
	h := newHolding()
	s := startProgress(t, n[0].url, sid, progressSteps, progressInterval)
	if _, err := h.read(t, s, 20); err != nil {
		t.Fatal(err)
	}
	s.cancel()
	r, err := resumeOn(n[1].url, sid, s.lastID, 20*time.Second)
	if err != nil {
		t.Fatalf("first resume, after %s: %v", s.lastID, err)
	}
	if _, err := h.read(t, r, 40); err != nil {
		t.Fatalf("first resume: %v", err)
	}
	r.cancel()
	r2, err := resumeOn(n[2].url, sid, r.lastID, 20*time.Second)
	if err != nil {
		t.Fatalf("second resume, after %s: %v", r.lastID, err)
	}
	got := h.readEnd(t, r2)
	h.check(t)
	if h.final == 0 || h.final != h.max() {
		t.Errorf("response at %d, last event %d; want the response last", h.final, h.max())
	}
	t.Logf("20 events from node 1, 40 from node 2, %d from node 3", len(got))
}

// testResumeKill: the node running the call is killed (SIGKILL) in the
// middle of the burst, while the client is behind: it read 40 events and
// the node had sent at least 80 to Redis. With drain, the client then
// reads what its connection still had; without, it lost that too (its
// connection broke as the node died). It resumes on another node and
// gets the events that node had sent to Redis that it had not seen, then
// the end of the stream (no response: the call died with its node)
// within a few seconds: the time for the dead node's liveness key to
// expire (3 s) and a followed read (2 s).
func testResumeKill(t *testing.T, bin string, drain bool) {
	rdb := testutil.StartRedis(t)
	n := startNodes(t, bin, rdb, 3)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	sid := startSession(t, hc, n[1].url, n[2].url)
	h := newHolding()
	s := startProgress(t, n[0].url, sid, progressSteps, 2*progressInterval)
	if _, err := h.read(t, s, 40); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, func() error {
		if k := len(redisSeqs(t, rdb, sid, h.stream)); k < 80 {
			return fmt.Errorf("%d events in Redis, want 80", k)
		}
		return nil
	})
	if !drain {
		s.cancel()
	}
	if err := n[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n[0].exited
	killed := time.Now()
	var before []uint64
	if drain {
		var err error
		before, err = h.read(t, s, -1) // what the connection still had
		s.cancel()
		if errors.Is(err, io.EOF) && h.final != 0 {
			t.Fatalf("the killed node's stream ended with the response at %d", h.final)
		}
	}
	seen := h.max()
	r, err := resumeOn(n[1].url, sid, h.lastID(), 20*time.Second)
	if err != nil {
		t.Fatalf("resume after %s on another node: %v", h.lastID(), err)
	}
	got := h.readEnd(t, r)
	took := time.Since(killed)
	h.check(t)
	if h.final != 0 {
		t.Errorf("a response at %d from a call whose node was killed", h.final)
	}
	if took > 10*time.Second {
		t.Errorf("the resumed stream ended %v after the kill, want within 10s", took)
	}
	// Exactly what the dead node had put in Redis after what the client
	// had seen.
	inRedis := redisSeqs(t, rdb, sid, h.stream)
	var want []uint64
	for _, seq := range inRedis {
		if seq > seen {
			want = append(want, seq)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("resumed after %d: got %v, want what Redis holds after it %v", seen, got, want)
	}
	if !drain && len(got) == 0 {
		t.Errorf("nothing resumed, want at least 40 events")
	}
	t.Logf("40+%d events before the kill, %d in Redis (last %d), %d resumed on another node; the stream ended %v after the kill",
		len(before), len(inRedis), slices.Max(append(inRedis, 0)), len(got), took.Round(time.Millisecond))
}

// testResumeUnflushed: the node running the call is killed with events
// the client read still in its queue for Redis (simulated: they are
// deleted from the Redis Stream after the kill), and the client comes
// back after the node's liveness key expired (the default SSE retry hint
// is 3 s, the key's TTL too). Its Last-Event-ID names an event Redis
// never got, of a stream Redis knows: it gets the stream's end (200, no
// event), as it would have before the key expired, not 400.
func testResumeUnflushed(t *testing.T, bin string) {
	rdb := testutil.StartRedis(t)
	n := startNodes(t, bin, rdb, 2)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	sid := startSession(t, hc, n[1].url, n[1].url)
	h := newHolding()
	s := startProgress(t, n[0].url, sid, progressSteps, 2*progressInterval)
	if _, err := h.read(t, s, 60); err != nil {
		t.Fatal(err)
	}
	s.cancel()
	if err := n[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n[0].exited
	key := "mcpfiber:e:{" + sid + "}:" + strconv.FormatUint(h.stream, 10)
	for _, seq := range redisSeqs(t, rdb, sid, h.stream) {
		if seq > 40 {
			if _, err := rdb.Do("XDEL", key, strconv.FormatUint(seq, 10)+"-1"); err != nil {
				t.Fatal(err)
			}
		}
	}
	alive := "mcpfiber:node:" + strconv.FormatUint(h.stream>>32, 10)
	testutil.WaitFor(t, 10*time.Second, func() error {
		if out, err := rdb.Do("EXISTS", alive); err != nil || out != "0" {
			return fmt.Errorf("EXISTS %s = %q, %v", alive, out, err)
		}
		return nil
	})
	r, err := resumeOn(n[1].url, sid, h.lastID(), 10*time.Second)
	if err != nil {
		t.Fatalf("resume after %s, beyond what Redis holds, its writer gone: %v", h.lastID(), err)
	}
	if got := h.readEnd(t, r); len(got) != 0 {
		t.Errorf("resumed after %s: %v, want no event", h.lastID(), got)
	}
	h.check(t)
}

// testResumeRedisRestart: Redis restarts (it keeps an append-only file)
// while the call's last events and its response are written. The client
// read 5 events of the POST stream and lost the rest (it reads them, to
// know the call is over, but keeps none); it resumes on another node
// once Redis is back and gets them all, the response last. The writer
// used to drop the batch Redis could not take: the other node's mirror
// then lacked the events and the stream's end, and the resumed stream
// hung for as long as the writer lived.
func testResumeRedisRestart(t *testing.T, bin string) {
	rdb := testutil.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	n := startNodes(t, bin, rdb, 2)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	sid := startSession(t, hc, n[1].url, n[1].url)
	h := newHolding()
	s := startProgress(t, n[0].url, sid, 20, 2*progressInterval)
	if _, err := h.read(t, s, 5); err != nil {
		t.Fatal(err)
	}
	lastID := s.lastID
	rdb.Kill()
	lost := newHolding()
	if _, err := lost.read(t, s, -1); !errors.Is(err, io.EOF) || lost.final == 0 {
		t.Fatalf("the call's stream on its node: %v, response at %d", err, lost.final)
	}
	s.cancel()
	rdb.Restart()
	var r *sseStream
	testutil.WaitFor(t, 10*time.Second, func() error { // 503 until the node's Redis connection is back
		var err error
		r, err = resumeOn(n[1].url, sid, lastID, 15*time.Second)
		return err
	})
	got := h.readEnd(t, r)
	h.check(t)
	if h.final == 0 || h.final != h.max() || h.max() != lost.max() {
		t.Errorf("resumed after %s: %d events, response at %d, last %d; want to %d, the response last", lastID, len(got), h.final, h.max(), lost.max())
	}
}

// testResumeGET: the GET stream is not shared, so its Last-Event-ID on
// another node opens that node's GET stream afresh (README "Scale out").
// It used to get 400: the GET stream's event IDs were "0_<seq>" on every
// node, and another node read them as its own GET stream's, which had no
// such event; a client reconnecting its GET stream after its node went
// (a rolling deploy's drain, a kill) was refused by the others.
func testResumeGET(t *testing.T, bin string) {
	rdb := testutil.StartRedis(t)
	n := startNodes(t, bin, rdb, 2)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	sid := startSession(t, hc, n[0].url, n[1].url)
	open := func(url, lastID string) string { // returns the priming event's ID
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", v2025)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		s, err := openSSE(req, 10*time.Second)
		if err != nil {
			t.Fatalf("GET, Last-Event-ID %q: %v", lastID, err)
		}
		defer s.cancel()
		for s.lastID == "" {
			line, err := s.br.ReadString('\n')
			if err != nil {
				t.Fatalf("GET, Last-Event-ID %q: no priming event: %v", lastID, err)
			}
			if id, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "id: "); ok {
				s.lastID = id
			}
		}
		return s.lastID
	}
	id0 := open(n[0].url, "")
	id1 := open(n[1].url, id0) // another node's GET stream: afresh
	if st, seq, _ := strings.Cut(id1, "_"); id1 == id0 || st == strings.Split(id0, "_")[0] || !strings.HasPrefix(seq, "0") || len(seq) > 1 && seq[1] != '_' {
		t.Errorf("GET with node 1's Last-Event-ID %s on node 2: priming event %s, want node 2's own GET stream from 0", id0, id1)
	}
	if id := open(n[0].url, id0); id != id0 { // its own node resumes it
		t.Errorf("GET resumed on its own node after %s: priming event %s", id0, id)
	}
	// A forged GET stream ID of this node's that has no such event is
	// still refused.
	if _, err := resumeOn(n[1].url, sid, strings.Split(id1, "_")[0]+"_5", 5*time.Second); err == nil || !strings.Contains(err.Error(), "= 400") {
		t.Errorf("Last-Event-ID past node 2's GET stream on node 2: %v, want 400", err)
	}
}

// redisSeqs returns the sequence numbers of the events of stream of
// session sid in Redis (the XRANGE of its Redis Stream; see
// redisstore/doc.go "# Event logs").
func redisSeqs(t *testing.T, rdb *testutil.Redis, sid string, stream uint64) []uint64 {
	t.Helper()
	out, err := rdb.Do("XRANGE", "mcpfiber:e:{"+sid+"}:"+strconv.FormatUint(stream, 10), "-", "+")
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, line := range strings.Split(out, "\n") {
		seq, kind, ok := strings.Cut(line, "-")
		if !ok || kind != "1" {
			continue
		}
		if n, err := strconv.ParseUint(seq, 10, 64); err == nil {
			seqs = append(seqs, n)
		}
	}
	return seqs
}

// TestBinaryResumeLatency measures the time to resume a broken POST
// stream, 100 times on the node that writes it (its own log, in memory)
// and 100 times on another node (a mirror filled from Redis and
// followed), three nodes on one redis-server of the test's own. Each
// round calls progress (20 steps 2 ms apart: 41 events), reads 5 events,
// drops the connection and resumes at once; it logs the percentiles of
// the time from sending the GET to the first event missed, and to the
// response, and checks every round for a gap or a duplicate. Figures:
// bench/RESULTS.md, "Time to resume (#11)".
func TestBinaryResumeLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement: 200 resumptions")
	}
	const rounds = 100
	bin := buildBinary(t)
	rdb := testutil.StartRedis(t)
	n := startNodes(t, bin, rdb, 3)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	sid := startSession(t, hc, n[0].url, n[1].url)
	for _, other := range []bool{false, true} {
		var first, end []time.Duration
		for i := range rounds {
			w := i % 3
			to := w
			if other {
				to = (w + 1) % 3
			}
			h := newHolding()
			s := startProgress(t, n[w].url, sid, 20, 2*time.Millisecond)
			if _, err := h.read(t, s, 5); err != nil {
				t.Fatal(err)
			}
			s.cancel()
			start := time.Now()
			r, err := resumeOn(n[to].url, sid, s.lastID, 10*time.Second)
			if err != nil {
				t.Fatalf("round %d: resume after %s: %v", i, s.lastID, err)
			}
			if _, err := h.read(t, r, 1); err != nil {
				t.Fatalf("round %d: resumed stream: %v", i, err)
			}
			first = append(first, time.Since(start))
			h.readEnd(t, r)
			end = append(end, time.Since(start))
			h.check(t)
			if h.final == 0 || h.final != h.max() {
				t.Fatalf("round %d: response at %d, last event %d", i, h.final, h.max())
			}
		}
		where := "same node (in-memory log)"
		if other {
			where = "another node (Redis)"
		}
		t.Logf("resume on %s, %d rounds: first missed event p50 %v p99 %v max %v; response p50 %v p99 %v max %v",
			where, rounds, pct(first, 50), pct(first, 99), pct(first, 100), pct(end, 50), pct(end, 99), pct(end, 100))
	}
}

// pct returns the p-th percentile of ds (nearest rank), sorting ds.
func pct(ds []time.Duration, p int) time.Duration {
	slices.Sort(ds)
	i := max((len(ds)*p+99)/100-1, 0)
	return ds[i].Round(10 * time.Microsecond)
}

// testTakeOverGET: the node holding a session's GET stream dies with
// events the client has not read (20 notifications/tools/list_changed
// were written, the client read 5). The client resumes its GET stream
// with Last-Event-ID on another node, which takes the stream over at
// once, though the dead node's claim has not expired yet (this used to
// be 409 for up to 3 s): it gets the 15 events it missed, from the log
// the dead node wrote to Redis, and no other.
func testTakeOverGET(t *testing.T, bin string) {
	const total, read = 20, 5
	rdb := testutil.StartRedis(t)
	n := startNodes(t, bin, rdb, 2, "--catalog", "conformance")
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	sid := startSession(t, hc, n[0].url, n[0].url)
	req, _ := http.NewRequest(http.MethodGet, n[0].url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", v2025)
	get, err := openSSE(req, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer get.cancel()
	for i := range total {
		body := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"test_trigger_tool_change","arguments":{}}}`, 100+i)
		if code, out, _, err := post(hc, n[0].url, sid, v2025, body); err != nil || code != http.StatusOK {
			t.Fatalf("trigger %d: %d %s %v", i, code, out, err)
		}
	}
	var last sseEvent
	for range read {
		if last, err = get.next(); err != nil || !strings.Contains(last.data, "notifications/tools/list_changed") {
			t.Fatalf("GET stream event: %+v, %v", last, err)
		}
	}
	testutil.WaitFor(t, 5*time.Second, func() error { // the node's writer has logged all of them
		if got := redisSeqs(t, rdb, sid, last.stream); len(got) < total {
			return fmt.Errorf("%d events of the GET stream in Redis, want %d", len(got), total)
		}
		return nil
	})
	if err := n[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n[0].exited
	// At once: the dead node's claim is still in Redis (three pings), but
	// its subscription went with its connections (redisstore NodeGone).
	if n, _ := rdb.Do("PTTL", "mcpfiber:g:{"+sid+"}"); n == "-2" {
		t.Fatal("the dead node's claim expired already: the take-over is not tested")
	}
	resumed, err := resumeOn(n[1].url, sid, last.id, 30*time.Second)
	if err != nil {
		t.Fatalf("GET with Last-Event-ID %s on node 2 just after node 1 was killed: %v; want 200 at once (the holder is gone)", last.id, err)
	}
	defer resumed.cancel()
	for i := range total - read {
		e, err := resumed.next()
		if err != nil || !strings.Contains(e.data, "notifications/tools/list_changed") {
			t.Fatalf("event %d of the taken-over stream: %+v, %v", i, e, err)
		}
		if e.stream == last.stream {
			t.Errorf("event %d carries the dead node's stream ID %s: want the new holder's", i, e.id)
		}
	}
	// Nothing more: one more trigger on node 1 is the next event.
	if code, out, _, err := post(hc, n[1].url, sid, v2025, `{"jsonrpc":"2.0","id":999,"method":"tools/call","params":{"name":"test_trigger_tool_change","arguments":{}}}`); err != nil || code != http.StatusOK {
		t.Fatalf("trigger on node 1: %d %s %v", code, out, err)
	}
	e, err := resumed.next()
	if err != nil || !strings.Contains(e.data, "notifications/tools/list_changed") {
		t.Fatalf("the event after the missed ones: %+v, %v", e, err)
	}
	if e.seq != uint64(total-read)+1 {
		t.Errorf("the first event raised on node 1 has seq %d, want %d: an event was repeated or lost", e.seq, total-read+1)
	}
}
