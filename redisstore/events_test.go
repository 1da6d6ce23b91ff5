package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// readAll reads stream of session id after seq after, page by page,
// until ReadEvents returns none.
func readAll(t testing.TB, s *Store, id string, stream, after uint64) (evs []sessions.Event, finished bool) {
	t.Helper()
	for {
		page, fin, err := s.ReadEvents(context.Background(), id, stream, after, 0)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, page...)
		if fin {
			return evs, true
		}
		if len(page) == 0 {
			return evs, false
		}
		after = page[len(page)-1].Seq
	}
}

// waitEventCount waits until stream holds n events after 0, and returns
// them.
func waitEventCount(t testing.TB, s *Store, id string, stream uint64, n int) []sessions.Event {
	t.Helper()
	var evs []sessions.Event
	testutil.WaitFor(t, 10*time.Second, func() error {
		if evs, _ = readAll(t, s, id, stream, 0); len(evs) != n {
			return fmt.Errorf("%d events in stream %d, want %d", len(evs), stream, n)
		}
		return nil
	})
	return evs
}

func eventData(stream, seq uint64) []byte {
	return []byte(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"stream":` +
		strconv.FormatUint(stream, 10) + `,"seq":` + strconv.FormatUint(seq, 10) + `}}`)
}

// checkSeq checks that evs are events from seq first on, consecutive,
// with their data.
func checkSeq(t testing.TB, evs []sessions.Event, stream, first uint64) {
	t.Helper()
	for i, e := range evs {
		if want := first + uint64(i); e.Seq != want || string(e.Data) != string(eventData(stream, want)) {
			t.Fatalf("stream %d, event %d: seq %d data %s; want seq %d", stream, i, e.Seq, e.Data, want)
		}
	}
}

// eventLogs appends 1000 events to each of two streams of one session,
// interleaved, on a and reads them back on b, in order; then finishes
// one and checks the end marker.
func eventLogs(t *testing.T, a, b *Store) {
	id := a.NewID()
	const n = 1000
	streams := []uint64{uint64(a.Node())<<32 | 1, 0}
	for seq := uint64(1); seq <= n; seq++ {
		for _, st := range streams {
			a.AppendEvent(id, st, seq, eventData(st, seq), sessions.Cursor{}, time.Minute, 2048)
		}
	}
	for _, st := range streams {
		evs := waitEventCount(t, b, id, st, n)
		checkSeq(t, evs, st, 1)
		evs, fin := readAll(t, b, id, st, 700)
		if len(evs) != n-700 || fin {
			t.Fatalf("after 700: %d events, finished %v; want %d, false", len(evs), fin, n-700)
		}
		checkSeq(t, evs, st, 701)
	}
	a.FinishStream(id, streams[0], n, time.Minute)
	testutil.WaitFor(t, 5*time.Second, func() error {
		if _, fin := readAll(t, b, id, streams[0], 990); !fin {
			return errors.New("no end read")
		}
		return nil
	})
	evs, fin := readAll(t, b, id, streams[0], 990)
	if len(evs) != 10 || !fin {
		t.Fatalf("after 990: %d events, finished %v; want 10, true", len(evs), fin)
	}
	// The end right after the event read last: no events, finished.
	if evs, fin, err := b.ReadEvents(context.Background(), id, streams[0], n, 0); err != nil || len(evs) != 0 || !fin {
		t.Fatalf("after the last: %v events, finished %v, %v; want none, true", len(evs), fin, err)
	}
	// A stream the store has nothing of.
	if evs, fin, err := b.ReadEvents(context.Background(), id, 77, 0, 0); err != nil || len(evs) != 0 || fin {
		t.Fatalf("unknown stream: %v events, finished %v, %v; want none, false", len(evs), fin, err)
	}
	if h := a.Health(); h.EventsDropped != 0 || h.Errors != 0 {
		t.Fatalf("Health after the appends: %+v", h)
	}
}

func TestEventLogs(t *testing.T) {
	r := testutil.StartRedis(t)
	a := newStore(t, r.URL(), nil)
	b := newStore(t, r.URL(), nil)
	eventLogs(t, a, b)
}

// TestEventTTLAndMaxLen checks the key's PEXPIRE, the approximate MAXLEN
// trimming (a reader then starts after a gap), and an end on a stream
// with no events.
func TestEventTTLAndMaxLen(t *testing.T) {
	r := testutil.StartRedis(t)
	s := newStore(t, r.URL(), nil)
	id := s.NewID()
	const n, maxLen = 2000, 300
	for seq := uint64(1); seq <= n; seq++ {
		s.AppendEvent(id, 1, seq, eventData(1, seq), sessions.Cursor{}, time.Minute, maxLen)
	}
	key := s.eventsKey(id, 1)
	testutil.WaitFor(t, 10*time.Second, func() error {
		got, err := r.Do("XINFO", "STREAM", key)
		if err != nil {
			return err
		}
		if want := "\nlast-generated-id\n" + strconv.Itoa(n) + "-1\n"; !strings.Contains(got, want) {
			return fmt.Errorf("XINFO STREAM: no %q", want)
		}
		return nil
	})
	got, _ := r.Do("XLEN", key)
	l, _ := strconv.Atoi(got)
	// Approximate trimming removes whole macro nodes (100 entries by
	// default): it keeps at least maxLen and less than one node more.
	if l < maxLen || l > maxLen+100 {
		t.Fatalf("XLEN = %d, want %d..%d", l, maxLen, maxLen+100)
	}
	evs, _ := readAll(t, s, id, 1, 0)
	if len(evs) != l {
		t.Fatalf("read %d events, XLEN %d", len(evs), l)
	}
	checkSeq(t, evs, 1, n-uint64(l)+1)
	pttl, _ := r.Do("PTTL", key)
	if ms, _ := strconv.Atoi(pttl); ms <= 50_000 || ms > 60_000 {
		t.Fatalf("PTTL = %s, want about 60000", pttl)
	}
	// No TTL: no expiry.
	s.AppendEvent(id, 2, 1, eventData(2, 1), sessions.Cursor{}, 0, 0)
	s.FinishStream(id, 3, 0, time.Second)
	testutil.WaitFor(t, 5*time.Second, func() error {
		if evs, fin, err := s.ReadEvents(context.Background(), id, 3, 0, 0); err != nil || len(evs) != 0 || !fin {
			return fmt.Errorf("empty finished stream: %d events, finished %v, %v", len(evs), fin, err)
		}
		return nil
	})
	if pttl, _ := r.Do("PTTL", s.eventsKey(id, 2)); pttl != "-1" {
		t.Fatalf("PTTL with ttl 0 = %s, want -1", pttl)
	}
}

// TestEventStaleID checks that an event appended twice, or after a
// later one, is dropped by Redis and counted in EventsDropped, not as a
// failure of Redis, and that the batch's other events are kept.
func TestEventStaleID(t *testing.T) {
	r := testutil.StartRedis(t)
	s := newStore(t, r.URL(), nil)
	id := s.NewID()
	for _, seq := range []uint64{1, 2, 3, 3, 2, 4} {
		s.AppendEvent(id, 1, seq, eventData(1, seq), sessions.Cursor{}, time.Minute, 100)
	}
	evs := waitEventCount(t, s, id, 1, 4)
	checkSeq(t, evs, 1, 1)
	testutil.WaitFor(t, 5*time.Second, func() error {
		if h := s.Health(); h.EventsDropped != 2 || h.Errors != 0 {
			return fmt.Errorf("EventsDropped %d, Errors %d; want 2, 0", h.EventsDropped, h.Errors)
		}
		return nil
	})
}

// TestReadEventsWait checks that a ReadEvents that waits returns an
// event another node appends meanwhile, the end too, and nothing after
// wait when nothing comes.
func TestReadEventsWait(t *testing.T) {
	r := testutil.StartRedis(t)
	a := newStore(t, r.URL(), nil)
	b := newStore(t, r.URL(), nil)
	ctx := context.Background()
	id := a.NewID()

	start := time.Now()
	evs, fin, err := b.ReadEvents(ctx, id, 5, 0, 200*time.Millisecond)
	if d := time.Since(start); err != nil || len(evs) != 0 || fin || d < 200*time.Millisecond || d > 2*time.Second {
		t.Fatalf("wait on nothing: %d events, finished %v, %v after %v", len(evs), fin, err, d)
	}

	type result struct {
		evs []sessions.Event
		fin bool
		err error
	}
	read := func(after uint64) <-chan result {
		ch := make(chan result, 1)
		go func() { // owner: this test; exit: ReadEvents returns (wait 10 s at most)
			evs, fin, err := b.ReadEvents(ctx, id, 5, after, 10*time.Second)
			ch <- result{evs, fin, err}
		}()
		return ch
	}
	ch := read(0)
	time.Sleep(100 * time.Millisecond) // let the reader block first (either order must work)
	a.AppendEvent(id, 5, 1, eventData(5, 1), sessions.Cursor{}, time.Minute, 100)
	select {
	case res := <-ch:
		if res.err != nil || res.fin || len(res.evs) != 1 {
			t.Fatalf("wait: %d events, finished %v, %v", len(res.evs), res.fin, res.err)
		}
		checkSeq(t, res.evs, 5, 1)
	case <-time.After(5 * time.Second):
		t.Fatal("ReadEvents did not return the event appended")
	}
	ch = read(1)
	a.FinishStream(id, 5, 1, time.Minute)
	select {
	case res := <-ch:
		if res.err != nil || !res.fin || len(res.evs) != 0 {
			t.Fatalf("wait for the end: %d events, finished %v, %v", len(res.evs), res.fin, res.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadEvents did not return the end")
	}

	// A caller's deadline shorter than wait bounds the wait, no error.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, _, err := b.ReadEvents(short, id, 6, 0, 10*time.Second); err != nil || time.Since(start) > 300*time.Millisecond {
		t.Fatalf("wait within a 300 ms deadline: %v after %v", err, time.Since(start))
	}
}

// TestNodes checks the node numbers and liveness: two Stores get
// distinct numbers and are alive; a closed one is not; one whose pinger
// stopped without Close (a killed node) is not once its key expired.
func TestNodes(t *testing.T) {
	r := testutil.StartRedis(t)
	opts := &Options{PingInterval: 50 * time.Millisecond}
	a := newStore(t, r.URL(), opts)
	b := newStore(t, r.URL(), opts)
	c := newStore(t, r.URL(), opts)
	ctx := context.Background()
	if a.Node() == 0 || a.Node() == b.Node() || b.Node() == c.Node() || a.Node() == c.Node() {
		t.Fatalf("node numbers %d, %d, %d", a.Node(), b.Node(), c.Node())
	}
	for _, s := range []*Store{a, b, c} {
		if ok, err := a.NodeAlive(ctx, s.Node()); !ok || err != nil {
			t.Fatalf("NodeAlive(%d) = %v, %v; want true", s.Node(), ok, err)
		}
	}
	if ok, err := a.NodeAlive(ctx, 1<<31); ok || err != nil {
		t.Fatalf("NodeAlive of no node = %v, %v", ok, err)
	}
	if pttl, _ := r.Do("PTTL", a.aliveKey); pttl == "-1" || pttl == "-2" {
		t.Fatalf("PTTL of the liveness key = %s", pttl)
	}
	_ = b.Close()
	if ok, err := a.NodeAlive(ctx, b.Node()); ok || err != nil {
		t.Fatalf("NodeAlive of a closed node = %v, %v; want false", ok, err)
	}
	// Killed: the pinger stops, nothing deletes the key.
	c.cancel()
	c.wg.Wait()
	if ok, _ := a.NodeAlive(ctx, c.Node()); !ok {
		t.Fatal("a killed node is dead before its key expired")
	}
	if testing.Short() {
		return
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if ok, err := a.NodeAlive(ctx, c.Node()); ok || err != nil {
			return fmt.Errorf("NodeAlive of a killed node = %v, %v", ok, err)
		}
		return nil
	})
	if ok, _ := a.NodeAlive(ctx, a.Node()); !ok {
		t.Fatal("a live node is dead after 3 s")
	}
}

func TestNodeNum(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want uint32
	}{{1, 1}, {2, 2}, {1<<32 - 1, 1<<32 - 1}, {1 << 32, 1}, {1<<32 + 1, 2}} {
		if got := nodeNum(c.n); got != c.want {
			t.Errorf("nodeNum(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// TestEventsRedisDown checks that AppendEvent never blocks with Redis
// hung or gone, drops past the queue's bound (counted), and that
// ReadEvents and NodeAlive fail with ErrStoreUnavailable.
func TestEventsRedisDown(t *testing.T) {
	r := testutil.StartRedis(t)
	const timeout = 200 * time.Millisecond
	s := newStore(t, r.URL(), &Options{Timeout: timeout, PingInterval: 50 * time.Millisecond, EventQueue: 100})
	ctx := context.Background()
	id := s.NewID()
	r.Pause()
	defer r.Resume()
	start := time.Now()
	for seq := uint64(1); seq <= 10_000; seq++ {
		s.AppendEvent(id, 1, seq, eventData(1, seq), sessions.Cursor{}, time.Minute, 100)
	}
	s.FinishStream(id, 1, 10_000, time.Minute)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("10 000 AppendEvents with Redis hung took %v", d)
	}
	if h := s.Health(); h.EventsDropped < 10_000-2*100 {
		t.Fatalf("EventsDropped = %d with a queue of 100, want about 9 900", h.EventsDropped)
	}
	start = time.Now()
	_, _, err := s.ReadEvents(ctx, id, 1, 0, time.Second)
	if d := time.Since(start); !errors.Is(err, sessions.ErrStoreUnavailable) || d > timeout+300*time.Millisecond {
		t.Fatalf("ReadEvents with Redis hung: %v after %v", err, d)
	}
	r.Resume()
	r.Kill()
	if _, _, err := s.ReadEvents(ctx, id, 1, 0, time.Second); !errors.Is(err, sessions.ErrStoreUnavailable) {
		t.Fatalf("ReadEvents with Redis gone: %v", err)
	}
	if _, err := s.NodeAlive(ctx, s.Node()); !errors.Is(err, sessions.ErrStoreUnavailable) {
		t.Fatalf("NodeAlive with Redis gone: %v", err)
	}
	start = time.Now()
	for seq := uint64(1); seq <= 10_000; seq++ {
		s.AppendEvent(id, 2, seq, eventData(2, seq), sessions.Cursor{}, time.Minute, 100)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("10 000 AppendEvents with Redis gone took %v", d)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if h := s.Health(); h.EventsDropped < 20_000-2*100 || h.Errors == 0 {
			return fmt.Errorf("Health = %+v", h)
		}
		return nil
	})
	start = time.Now()
	_ = s.Close()
	if d := time.Since(start); d > 2*timeout+500*time.Millisecond {
		t.Fatalf("Close with Redis gone took %v", d)
	}
	s.AppendEvent(id, 3, 1, nil, sessions.Cursor{}, 0, 0) // after Close: dropped, no panic
}

// TestEventsCluster appends and reads on a Redis Cluster of three
// masters: the keys of a session share its hash tag.
func TestEventsCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("a cluster takes seconds to form")
	}
	c := testutil.StartRedisCluster(t, 3)
	a := newStore(t, c.URL(), nil)
	b := newStore(t, c.URLs()[1], nil)
	if a.Node() == b.Node() {
		t.Fatalf("node numbers %d, %d", a.Node(), b.Node())
	}
	eventLogs(t, a, b)
	ctx := context.Background()
	if ok, err := b.NodeAlive(ctx, a.Node()); !ok || err != nil {
		t.Fatalf("NodeAlive = %v, %v", ok, err)
	}
	id := a.NewID()
	ch := make(chan error, 1)
	go func() { // owner: this test; exit: ReadEvents returns (wait 10 s at most)
		evs, _, err := b.ReadEvents(ctx, id, 1, 0, 10*time.Second)
		if err == nil && len(evs) != 1 {
			err = fmt.Errorf("%d events, want 1", len(evs))
		}
		ch <- err
	}()
	time.Sleep(50 * time.Millisecond)
	a.AppendEvent(id, 1, 1, eventData(1, 1), sessions.Cursor{}, time.Minute, 10)
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
}

// BenchmarkAppendEvent measures the event rate the writer sustains into
// a local redis-server, from one producer over 64 sessions' streams: the
// time from the first AppendEvent until Redis holds the last event. The
// producer sleeps while the queue holds more than half its bounds, so
// nothing is dropped. It reports events/s, the Redis memory per event
// (MEMORY USAGE over XLEN, streams trimmed at 1024 events) and the Redis
// CPU per event (INFO CPU, user + sys).
//
// go test ./redisstore -run '^$' -bench BenchmarkAppendEvent -benchtime 200000x -count 5
func BenchmarkAppendEvent(b *testing.B) {
	for _, size := range []int{200, 2000} {
		b.Run("size="+strconv.Itoa(size)+"b", func(b *testing.B) {
			r := testutil.StartRedis(b)
			s := newStore(b, r.URL(), nil)
			const nStreams, maxLen = 64, 1024
			ids := make([]string, nStreams)
			for i := range ids {
				ids[i] = s.NewID()
			}
			data := make([]byte, size)
			for i := range data {
				data[i] = 'a' + byte(i%26)
			}
			cpu0 := redisCPU(b, r)
			b.ReportAllocs()
			start := time.Now()
			var seq uint64
			for b.Loop() {
				seq++
				s.AppendEvent(ids[seq%nStreams], 1, seq, data, sessions.Cursor{}, time.Minute, maxLen)
				if seq%1024 == 0 {
					for n, bytes := s.queued(); n > DefaultEventQueue/2 || bytes > maxQueuedBytes/2; n, bytes = s.queued() {
						time.Sleep(50 * time.Microsecond)
					}
				}
			}
			last := s.eventsKey(ids[seq%nStreams], 1)
			want := strconv.FormatUint(seq, 10) + "-1"
			for {
				got, err := r.Do("XREVRANGE", last, "+", "-", "COUNT", "1")
				if err != nil {
					b.Fatal(err)
				}
				if strings.HasPrefix(got, want+"\n") {
					break
				}
				time.Sleep(100 * time.Microsecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if d := s.Health().EventsDropped; d != 0 {
				b.Fatalf("%d events dropped", d)
			}
			b.ReportMetric(float64(seq)/elapsed.Seconds(), "events/s")
			b.ReportMetric((redisCPU(b, r)-cpu0)/float64(seq)*1e6, "redis-µs/event")
			var mem, n int
			for _, id := range ids {
				m, _ := r.Do("MEMORY", "USAGE", s.eventsKey(id, 1), "SAMPLES", "0")
				l, _ := r.Do("XLEN", s.eventsKey(id, 1))
				mi, _ := strconv.Atoi(m)
				li, _ := strconv.Atoi(l)
				mem, n = mem+mi, n+li
			}
			if n > 0 {
				b.ReportMetric(float64(mem)/float64(n), "redis-B/event")
			}
		})
	}
}

// queued returns the number of items and bytes of data waiting in the
// writer's queue.
func (s *Store) queued() (n, bytes int) {
	s.evq.mu.Lock()
	defer s.evq.mu.Unlock()
	return len(s.evq.items), s.evq.bytes
}

// redisCPU returns the CPU seconds (user + sys) redis-server used.
func redisCPU(t testing.TB, r *testutil.Redis) float64 {
	t.Helper()
	info, err := r.Do("INFO", "CPU")
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, line := range strings.Split(info, "\r\n") {
		for _, k := range []string{"used_cpu_user:", "used_cpu_sys:"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				sum += f
			}
		}
	}
	return sum
}
