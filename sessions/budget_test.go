package sessions

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// checkBytes checks the byte accounting of s exactly: each retained
// stream's count is the sum of its events' data, and the session's is the
// sum over its retained streams. It returns the session's count.
func checkBytes(t *testing.T, s *Session) int64 {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum int64
	for id, st := range s.streams {
		st.mu.Lock()
		var n int64
		for _, e := range st.events {
			n += int64(len(e.Data))
		}
		if n != st.bytes || !st.counted {
			t.Errorf("stream %d: bytes %d, events hold %d (counted %v)", id, st.bytes, n, st.counted)
		}
		sum += st.bytes
		st.mu.Unlock()
	}
	if got := s.eventBytes.Load(); got != sum {
		t.Errorf("session eventBytes %d, streams hold %d", got, sum)
	}
	return sum
}

// kept returns the sequence numbers st retains.
func kept(st *Stream) []uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	return seqs(st.events)
}

func checkKept(t *testing.T, st *Stream, want ...uint64) {
	t.Helper()
	got := kept(st)
	if len(got) != len(want) {
		t.Fatalf("stream %d keeps %v, want %v", st.ID(), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("stream %d keeps %v, want %v", st.ID(), got, want)
		}
	}
}

func appendSize(t *testing.T, st *Stream, size int) uint64 {
	t.Helper()
	seq, ok := st.Append([]byte(strings.Repeat("x", size)))
	if !ok {
		t.Fatalf("stream %d: Append failed", st.ID())
	}
	return seq
}

// TestStreamByteBudget: past MaxStreamEventBytes the oldest events go, the
// newest stays whatever its size, and the counts stay exact through
// Finish and End.
func TestStreamByteBudget(t *testing.T) {
	m, s := newTestSession(t, Options{MaxStreamEventBytes: 10})
	if got := m.Options(); got.MaxStreamEventBytes != 10 || got.MaxSessionEventBytes != DefaultMaxSessionEventBytes {
		t.Fatalf("options %+v", got)
	}
	st := s.NewStream()
	appendSize(t, st, 4)
	appendSize(t, st, 4)
	appendSize(t, st, 2) // 10: at the budget, all kept
	checkKept(t, st, 1, 2, 3)
	if n := checkBytes(t, s); n != 10 {
		t.Fatalf("bytes %d, want 10", n)
	}
	appendSize(t, st, 4) // 14: event 1 goes
	checkKept(t, st, 2, 3, 4)
	if n := checkBytes(t, s); n != 10 {
		t.Fatalf("bytes %d, want 10", n)
	}
	appendSize(t, st, 7) // 17: 2, 3 and 4 go (13, 11, then 7)
	checkKept(t, st, 5)
	if n := checkBytes(t, s); n != 7 {
		t.Fatalf("bytes %d, want 7", n)
	}
	appendSize(t, st, 25) // alone over the budget: kept, alone
	checkKept(t, st, 6)
	if n := checkBytes(t, s); n != 25 {
		t.Fatalf("bytes %d, want 25", n)
	}
	appendSize(t, st, 0) // empty data counts nothing, but is newer
	checkKept(t, st, 7)
	if n := checkBytes(t, s); n != 0 {
		t.Fatalf("bytes %d, want 0", n)
	}
	appendSize(t, st, 3)
	checkKept(t, st, 7, 8)
	st.Finish()
	if n := checkBytes(t, s); n != 3 {
		t.Fatalf("after Finish: bytes %d, want 3", n)
	}
	get := s.Standalone()
	appendSize(t, get, 5)
	if n := checkBytes(t, s); n != 8 {
		t.Fatalf("with the GET stream: bytes %d, want 8", n)
	}
	s.End(EndDelete)
	if n := s.eventBytes.Load(); n != 0 {
		t.Fatalf("after End: session bytes %d, want 0", n)
	}
	for _, x := range []*Stream{st, get} {
		x.mu.Lock()
		b, evs := x.bytes, len(x.events)
		x.mu.Unlock()
		if b != 0 || evs != 0 {
			t.Fatalf("after End: stream %d keeps %d events, %d bytes", x.ID(), evs, b)
		}
	}
}

// TestStreamBudgetsCombine: the count bound and the byte budget both hold.
func TestStreamBudgetsCombine(t *testing.T) {
	_, s := newTestSession(t, Options{MaxEventsPerStream: 3, MaxStreamEventBytes: 100})
	st := s.NewStream()
	for range 5 {
		appendSize(t, st, 10)
	}
	checkKept(t, st, 3, 4, 5)
	appendSize(t, st, 85) // 3 go by count... and 4 by bytes: 10+85 = 95
	checkKept(t, st, 5, 6)
	if n := checkBytes(t, s); n != 95 {
		t.Fatalf("bytes %d, want 95", n)
	}
}

// TestSessionByteBudget: past MaxSessionEventBytes events of the other
// streams go first, in eviction order (delivered, finished, open; the
// oldest first; the GET stream as the oldest open one), a finished stream
// left empty is forgotten, and only then older events of the stream
// appended to.
func TestSessionByteBudget(t *testing.T) {
	_, s := newTestSession(t, Options{MaxSessionEventBytes: 100})
	get := s.Standalone()
	appendSize(t, get, 10)
	open := s.NewStream() // 1
	appendSize(t, open, 10)
	fin := s.NewStream() // 2: finished, two events
	appendSize(t, fin, 10)
	appendSize(t, fin, 10)
	fin.Finish()
	del := s.NewStream() // 3: delivered
	appendSize(t, del, 10)
	del.Finish()
	r := del.Attach(0)
	if evs, lost, status := r.Next(nil); len(evs) != 1 || lost != 0 || status != ReadFinished {
		t.Fatalf("reading stream 3: %d events, lost %d, status %d", len(evs), lost, status)
	}
	r.Close()
	fin2 := s.NewStream() // 4: finished
	appendSize(t, fin2, 10)
	fin2.Finish()
	cur := s.NewStream() // 5: the one appended to
	appendSize(t, cur, 10)
	appendSize(t, cur, 10)
	if n := checkBytes(t, s); n != 80 {
		t.Fatalf("bytes %d, want 80", n)
	}

	step := func(what string, wantBytes int64) {
		t.Helper()
		appendSize(t, cur, 10)
		if n := checkBytes(t, s); n != wantBytes {
			t.Fatalf("%s: bytes %d, want %d", what, n, wantBytes)
		}
	}
	step("at the budget", 90)
	step("at the budget", 100)
	step("delivered stream 3 emptied", 100)
	if s.Stream(3) != nil {
		t.Fatal("the emptied delivered stream 3 is still retained")
	}
	step("finished stream 2 loses its oldest event", 100)
	checkKept(t, fin, 2)
	step("finished stream 2 emptied", 100)
	if s.Stream(2) != nil {
		t.Fatal("the emptied finished stream 2 is still retained")
	}
	checkKept(t, fin2, 1) // 4 is younger than 2
	step("finished stream 4 emptied", 100)
	if s.Stream(4) != nil {
		t.Fatal("the emptied finished stream 4 is still retained")
	}
	step("the GET stream (oldest open) emptied", 100)
	if s.Stream(0) != get || len(kept(get)) != 0 {
		t.Fatalf("the GET stream: retained %v, keeps %v; want retained and empty", s.Stream(0) == get, kept(get))
	}
	checkKept(t, open, 1)
	step("open stream 1 emptied", 100)
	if s.Stream(1) != open || len(kept(open)) != 0 {
		t.Fatal("open stream 1: want retained and empty")
	}
	checkKept(t, cur, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	step("stream 5's own oldest", 100)
	checkKept(t, cur, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)

	// One event bigger than the session budget: kept alone.
	appendSize(t, cur, 150)
	checkKept(t, cur, 12)
	if n := checkBytes(t, s); n != 150 {
		t.Fatalf("bytes %d, want 150", n)
	}
	// Appending elsewhere then drops it: the other streams go first.
	appendSize(t, open, 10)
	checkKept(t, cur)
	checkKept(t, open, 2)
	if n := checkBytes(t, s); n != 10 {
		t.Fatalf("bytes %d, want 10", n)
	}
}

// TestEvictedStreamUncounted: a stream the session stops retaining
// (MaxStreamsPerSession) leaves the session's count; its reader keeps
// reading it within its own budgets.
func TestEvictedStreamUncounted(t *testing.T) {
	_, s := newTestSession(t, Options{MaxStreamsPerSession: 1, MaxStreamEventBytes: 20, MaxSessionEventBytes: 30})
	old := s.NewStream()
	r := old.Attach(0)
	defer r.Close()
	appendSize(t, old, 10)
	cur := s.NewStream() // evicts old
	if s.Stream(old.ID()) != nil {
		t.Fatal("the old stream is still retained")
	}
	if n := checkBytes(t, s); n != 0 {
		t.Fatalf("bytes %d after eviction, want 0", n)
	}
	appendSize(t, old, 10)
	appendSize(t, old, 10) // its own budget: event 1 goes
	checkKept(t, old, 2, 3)
	appendSize(t, cur, 20)
	appendSize(t, cur, 5) // cur's own budget (20): event 1 goes
	checkKept(t, cur, 2)
	if n := checkBytes(t, s); n != 5 {
		t.Fatalf("bytes %d, want 5", n)
	}
	if evs, lost, _ := r.Next(nil); lost != 1 || len(evs) != 2 {
		t.Fatalf("the evicted stream's reader: %d events, lost %d; want 2, lost 1", len(evs), lost)
	}
}

// TestCanResume covers CanResume at and around the oldest event kept.
func TestCanResume(t *testing.T) {
	_, s := newTestSession(t, Options{MaxStreamEventBytes: 30})
	st := s.NewStream()
	if !st.CanResume(0) || st.CanResume(1) {
		t.Fatal("empty stream: want CanResume(0) only")
	}
	for range 5 {
		appendSize(t, st, 10)
	}
	checkKept(t, st, 3, 4, 5)
	for after, want := range map[uint64]bool{0: false, 1: false, 2: true, 3: true, 4: true, 5: true, 6: false, 99: false} {
		if got := st.CanResume(after); got != want {
			t.Errorf("CanResume(%d) = %v, want %v", after, got, want)
		}
	}
	// Emptied by the session budget: only the last event ID resumes.
	_, s2 := newTestSession(t, Options{MaxSessionEventBytes: 30})
	a, b := s2.NewStream(), s2.NewStream()
	appendSize(t, a, 10)
	appendSize(t, a, 10)
	appendSize(t, b, 30) // a is emptied
	checkKept(t, a)
	if a.CanResume(0) || a.CanResume(1) || !a.CanResume(2) {
		t.Errorf("emptied stream: CanResume(0,1,2) = %v %v %v, want false false true", a.CanResume(0), a.CanResume(1), a.CanResume(2))
	}
}

// TestReaderLostToBudgets: a reader behind the dropped events gets lost,
// by the stream's budget and by the session's.
func TestReaderLostToBudgets(t *testing.T) {
	_, s := newTestSession(t, Options{MaxStreamEventBytes: 20, MaxSessionEventBytes: 30})
	st := s.NewStream()
	r := st.Attach(0)
	defer r.Close()
	for range 4 {
		appendSize(t, st, 10)
	}
	evs, lost, status := r.Next(nil)
	if got := seqs(evs); lost != 2 || len(got) != 2 || got[0] != 3 || status != ReadMore {
		t.Fatalf("Next = %v lost %d status %d; want [3 4] lost 2", got, lost, status)
	}
	appendSize(t, st, 10)
	appendSize(t, st, 10) // [5 6], unread
	other := s.NewStream()
	appendSize(t, other, 20) // 40 > 30: st, the older open stream, loses event 5
	evs, lost, _ = r.Next(nil)
	if got := seqs(evs); lost != 1 || len(got) != 1 || got[0] != 6 {
		t.Fatalf("after the session trim: Next = %v lost %d; want [6], lost 1", got, lost)
	}
	if st.CanResume(4) || !st.CanResume(5) {
		t.Error("CanResume(4), CanResume(5): want false, true")
	}
	checkBytes(t, s)

	// Read to its end after a gap: not delivered (the writer ended the
	// response instead of writing past the gap).
	st.Finish()
	if _, _, status := r.Next(nil); status != ReadFinished {
		t.Fatalf("status %d, want ReadFinished", status)
	}
	r.Close()
	if st.state() == streamDelivered {
		t.Error("a stream read with a gap was marked delivered")
	}
}

// TestEventBytesConcurrent appends to several streams from several
// goroutines while readers read, streams are evicted (count) and finished;
// at the end the counts are exact and within the budget. Run with -race.
func TestEventBytesConcurrent(t *testing.T) {
	const budget = 4 << 10
	_, s := newTestSession(t, Options{MaxStreamsPerSession: 4, MaxStreamEventBytes: 1 << 10, MaxSessionEventBytes: budget})
	var wg sync.WaitGroup
	deadline := time.Now().Add(5 * time.Second)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300 && time.Now().Before(deadline); i++ {
				st := s.NewStream()
				r := st.Attach(0)
				for j := range 8 {
					st.Append(make([]byte, 50+(w*31+j*17)%300))
					if j%3 == 0 {
						r.Next(nil)
					}
					s.Standalone().Append(make([]byte, 40))
				}
				if i%2 == 0 {
					st.Finish()
					r.Next(nil)
				}
				r.Close()
			}
		}()
	}
	wg.Wait()
	if n := checkBytes(t, s); n > budget {
		t.Errorf("bytes %d over the budget %d", n, budget)
	}
}
