package sessions

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

func newTestSession(t testing.TB, opts Options) (*Map, *Session) {
	t.Helper()
	m := newTestMap(t, opts)
	return m, mustCreate(t, m)
}

// woken reports whether r's Wake channel has a signal or is closed,
// without blocking.
func woken(r *Reader) bool {
	select {
	case <-r.Wake():
		return true
	default:
		return false
	}
}

// wakeClosed reports whether r's Wake channel is closed, draining a
// pending signal first.
func wakeClosed(r *Reader) bool {
	for range 2 {
		select {
		case _, ok := <-r.Wake():
			if !ok {
				return true
			}
		default:
			return false
		}
	}
	return false
}

func seqs(evs []Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

func checkNext(t *testing.T, r *Reader, wantSeqs []uint64, wantLost uint64, wantStatus ReadStatus) {
	t.Helper()
	evs, lost, status := r.Next(nil)
	got := seqs(evs)
	if len(got) != len(wantSeqs) || lost != wantLost || status != wantStatus {
		t.Fatalf("Next = %v lost %d status %d; want %v lost %d status %d", got, lost, status, wantSeqs, wantLost, wantStatus)
	}
	for i := range got {
		if got[i] != wantSeqs[i] {
			t.Fatalf("Next = %v, want %v", got, wantSeqs)
		}
	}
	for _, e := range evs {
		if string(e.Data) != "e"+strconv.FormatUint(e.Seq, 10) {
			t.Fatalf("event %d carries %q", e.Seq, e.Data)
		}
	}
}

// appendN appends events e<seq> until the stream's last seq is upto.
func appendN(t *testing.T, st *Stream, upto uint64) {
	t.Helper()
	for st.Last() < upto {
		want := st.Last() + 1
		seq, ok := st.Append([]byte("e" + strconv.FormatUint(want, 10)))
		if !ok || seq != want {
			t.Fatalf("Append = %d, %v; want %d, true", seq, ok, want)
		}
	}
}

func holds(s *Session) int32 { return s.holds.Load() }

func TestStreamAppendNextFinish(t *testing.T) {
	_, s := newTestSession(t, Options{})
	st := s.NewStream()
	if st.ID() != 1 || st.Session() != s || s.Stream(1) != st {
		t.Fatalf("first POST stream: ID %d", st.ID())
	}
	if st2 := s.NewStream(); st2.ID() != 2 {
		t.Fatalf("second POST stream ID = %d, want 2", st2.ID())
	}
	r := st.Attach(0)
	if r.Stream() != st || !st.Attached() || holds(s) != 1 {
		t.Fatalf("Attach: Attached %v holds %d", st.Attached(), holds(s))
	}
	if woken(r) {
		t.Error("Wake signalled on an empty stream")
	}
	checkNext(t, r, nil, 0, ReadMore)

	appendN(t, st, 2)
	if !woken(r) {
		t.Error("Append did not wake the reader")
	}
	checkNext(t, r, []uint64{1, 2}, 0, ReadMore)
	if r.Cursor() != 2 {
		t.Errorf("Cursor = %d, want 2", r.Cursor())
	}
	checkNext(t, r, nil, 0, ReadMore)

	appendN(t, st, 3)
	st.Finish()
	if seq, ok := st.Append([]byte("late")); ok || seq != 0 {
		t.Errorf("Append after Finish = %d, %v; want 0, false", seq, ok)
	}
	if !woken(r) {
		t.Error("no wake after Append+Finish")
	}
	checkNext(t, r, []uint64{3}, 0, ReadFinished)
	checkNext(t, r, nil, 0, ReadFinished)
	if st.Last() != 3 {
		t.Errorf("Last = %d", st.Last())
	}
	r.Close()
	r.Close() // idempotent: releases once
	if holds(s) != 0 {
		t.Errorf("holds = %d after Close, want 0", holds(s))
	}
}

func TestStreamFinishWakes(t *testing.T) {
	_, s := newTestSession(t, Options{})
	st := s.NewStream()
	r := st.Attach(0)
	defer r.Close()
	st.Finish()
	if !woken(r) {
		t.Fatal("Finish did not wake the reader")
	}
	checkNext(t, r, nil, 0, ReadFinished)
	// Attaching to a finished stream signals at once.
	r2 := st.Attach(0)
	defer r2.Close()
	if !woken(r2) {
		t.Fatal("Attach to a finished stream did not signal")
	}
}

func TestNextAppendsToBuf(t *testing.T) {
	_, s := newTestSession(t, Options{})
	st := s.NewStream()
	appendN(t, st, 3)
	r := st.Attach(0)
	defer r.Close()
	buf := make([]Event, 1, 8)
	buf[0] = Event{Seq: 99}
	evs, _, _ := r.Next(buf)
	if got := seqs(evs); len(got) != 4 || got[0] != 99 || got[3] != 3 {
		t.Fatalf("Next(buf) = %v, want [99 1 2 3]", got)
	}
	if &evs[0] != &buf[0] {
		t.Error("Next did not append into buf")
	}
}

func TestStreamTrim(t *testing.T) {
	_, s := newTestSession(t, Options{MaxEventsPerStream: 4})
	st := s.NewStream()
	appendN(t, st, 10)

	r := st.Attach(0)
	checkNext(t, r, []uint64{7, 8, 9, 10}, 6, ReadMore)
	r.Close()

	r = st.Attach(2) // had read 1..2: 3..6 are gone
	checkNext(t, r, []uint64{7, 8, 9, 10}, 4, ReadMore)
	appendN(t, st, 11)
	checkNext(t, r, []uint64{11}, 0, ReadMore)
	appendN(t, st, 20) // 12..16 dropped before this reader saw them
	checkNext(t, r, []uint64{17, 18, 19, 20}, 5, ReadMore)
	r.Close()

	r = st.Attach(6) // far behind: 7..16 are gone
	checkNext(t, r, []uint64{17, 18, 19, 20}, 10, ReadMore)
	r.Close()

	r = st.Attach(16) // exactly at the edge: nothing lost
	checkNext(t, r, []uint64{17, 18, 19, 20}, 0, ReadMore)
	r.Close()

	st.mu.Lock()
	n, c := len(st.events), cap(st.events)
	st.mu.Unlock()
	if n != 4 {
		t.Errorf("retained %d events, want 4", n)
	}
	if c > 16 {
		t.Errorf("event log capacity grew to %d for a limit of 4", c)
	}
}

func TestStreamTrimOne(t *testing.T) {
	_, s := newTestSession(t, Options{MaxEventsPerStream: 1})
	st := s.NewStream()
	appendN(t, st, 5)
	r := st.Attach(0)
	defer r.Close()
	checkNext(t, r, []uint64{5}, 4, ReadMore)
}

func TestAttachAfterReplays(t *testing.T) {
	_, s := newTestSession(t, Options{})
	st := s.NewStream()
	appendN(t, st, 5)
	for after := range uint64(6) {
		r := st.Attach(after)
		if r.Cursor() != after {
			t.Fatalf("Cursor = %d, want %d", r.Cursor(), after)
		}
		var want []uint64
		for q := after + 1; q <= 5; q++ {
			want = append(want, q)
		}
		checkNext(t, r, want, 0, ReadMore)
		r.Close()
	}
	if holds(s) != 0 {
		t.Errorf("holds = %d", holds(s))
	}
}

func TestAttachTakeover(t *testing.T) {
	_, s := newTestSession(t, Options{})
	st := s.NewStream()
	r1 := st.Attach(0)
	appendN(t, st, 2)
	checkNext(t, r1, []uint64{1, 2}, 0, ReadMore)

	r2 := st.Attach(1) // a resumption with Last-Event-ID 1_1
	if !wakeClosed(r1) {
		t.Fatal("the first reader's Wake channel is not closed")
	}
	if _, _, status := r1.Next(nil); status != ReadDetached {
		t.Fatalf("first reader Next status = %d, want ReadDetached", status)
	}
	if holds(s) != 2 {
		t.Fatalf("holds = %d with two readers not yet closed", holds(s))
	}
	checkNext(t, r2, []uint64{2}, 0, ReadMore)
	r1.Close() // must not detach r2
	if !st.Attached() {
		t.Fatal("closing the detached reader detached the new one")
	}
	appendN(t, st, 3)
	checkNext(t, r2, []uint64{3}, 0, ReadMore)
	r2.Close()
	if st.Attached() || holds(s) != 0 {
		t.Fatalf("after Close: Attached %v holds %d", st.Attached(), holds(s))
	}
}

func TestTryAttach(t *testing.T) {
	_, s := newTestSession(t, Options{})
	get := s.Standalone()
	if get.ID() != 0 || s.Standalone() != get || s.Stream(0) != get {
		t.Fatalf("Standalone: ID %d, not stable", get.ID())
	}
	appendN(t, get, 2) // queued before any GET
	r1, ok := get.TryAttach()
	if !ok {
		t.Fatal("TryAttach on a free stream failed")
	}
	if r2, ok := get.TryAttach(); ok || r2 != nil {
		t.Fatal("TryAttach succeeded while a reader is attached")
	}
	checkNext(t, r1, []uint64{1, 2}, 0, ReadMore)
	appendN(t, get, 3)
	r1.Close()
	if s.Stream(0) != get {
		t.Fatal("the GET stream was forgotten")
	}

	r2, ok := get.TryAttach()
	if !ok {
		t.Fatal("TryAttach after Close failed")
	}
	if r2.Cursor() != 2 {
		t.Errorf("new reader starts at %d, want 2 (where the last one stopped)", r2.Cursor())
	}
	checkNext(t, r2, []uint64{3}, 0, ReadMore)
	r2.Close()
	if holds(s) != 0 {
		t.Errorf("holds = %d", holds(s))
	}
}

func TestSessionEndDropsStreams(t *testing.T) {
	m, s := newTestSession(t, Options{})
	post := s.NewStream()
	appendN(t, post, 3)
	rp := post.Attach(0)
	get := s.Standalone()
	rg, _ := get.TryAttach()
	idle := s.NewStream()
	appendN(t, idle, 2)

	s.End(EndDelete)
	for _, r := range []*Reader{rp, rg} {
		if !wakeClosed(r) {
			t.Fatalf("stream %d: Wake not closed on End", r.Stream().ID())
		}
		if evs, _, status := r.Next(nil); status != ReadDetached || len(evs) != 0 {
			t.Fatalf("stream %d: Next = %d events, status %d; want 0, ReadDetached", r.Stream().ID(), len(evs), status)
		}
	}
	for _, st := range []*Stream{post, get, idle} {
		if _, ok := st.Append([]byte("x")); ok {
			t.Errorf("stream %d: Append after End succeeded", st.ID())
		}
		if st.Attached() {
			t.Errorf("stream %d: still attached", st.ID())
		}
		st.mu.Lock()
		n := len(st.events)
		st.mu.Unlock()
		if n != 0 {
			t.Errorf("stream %d: %d events kept after End", st.ID(), n)
		}
	}
	if _, ok := get.TryAttach(); ok {
		t.Error("TryAttach after End succeeded")
	}
	r := idle.Attach(0) // a late resumption: detached at once
	if _, _, status := r.Next(nil); status != ReadDetached {
		t.Errorf("Attach after End: status %d, want ReadDetached", status)
	}
	r.Close()
	if s.NewStream() != nil || s.Standalone() != nil || s.Stream(1) != nil || s.Stream(0) != nil {
		t.Error("an ended session still hands out streams")
	}
	rp.Close()
	rg.Close()
	if holds(s) != 0 {
		t.Errorf("holds = %d", holds(s))
	}
	if m.Len() != 0 {
		t.Errorf("Len = %d", m.Len())
	}
}

func TestDeliveredStreamRetained(t *testing.T) {
	_, s := newTestSession(t, Options{})

	// Read to its end, then closed: delivered, but still resumable (the
	// writes may have gone into a dead connection).
	first := s.NewStream()
	r := first.Attach(0)
	appendN(t, first, 2)
	first.Finish()
	checkNext(t, r, []uint64{1, 2}, 0, ReadFinished)
	r.Close()
	if s.Stream(first.ID()) != first {
		t.Fatal("a delivered stream was forgotten at once")
	}
	r = first.Attach(1) // a resumption after a dead-socket flush
	checkNext(t, r, []uint64{2}, 0, ReadFinished)
	r.Close()

	// Finished but closed before the reader read the end: kept, then
	// delivered on resumption.
	st := s.NewStream()
	r = st.Attach(0)
	appendN(t, st, 1)
	checkNext(t, r, []uint64{1}, 0, ReadMore)
	appendN(t, st, 2)
	st.Finish()
	r.Close() // the connection broke before event 2 went out
	if s.Stream(st.ID()) != st {
		t.Fatal("a stream not fully read was forgotten")
	}
	r = st.Attach(1)
	checkNext(t, r, []uint64{2}, 0, ReadFinished)
	r.Close()

	// Open (not finished) and fully read: kept.
	open := s.NewStream()
	r = open.Attach(0)
	appendN(t, open, 1)
	checkNext(t, r, []uint64{1}, 0, ReadMore)
	r.Close()

	// Only the last RetainDelivered delivered streams are kept; the oldest
	// delivered go first, and open streams are untouched.
	var delivered []*Stream
	for range RetainDelivered + 2 {
		d := s.NewStream()
		r := d.Attach(0)
		appendN(t, d, 1)
		d.Finish()
		checkNext(t, r, []uint64{1}, 0, ReadFinished)
		r.Close()
		delivered = append(delivered, d)
	}
	if s.Stream(first.ID()) != nil || s.Stream(st.ID()) != nil {
		t.Fatal("the oldest delivered streams were kept past RetainDelivered")
	}
	for _, d := range delivered[2:] {
		if s.Stream(d.ID()) != d {
			t.Fatalf("delivered stream %d (among the last %d) was dropped", d.ID(), RetainDelivered)
		}
	}
	if s.Stream(open.ID()) != open {
		t.Fatal("an open stream was dropped to make room for delivered ones")
	}
}

func TestEvictionIgnoresGETStream(t *testing.T) {
	_, s := newTestSession(t, Options{MaxStreamsPerSession: 1})
	s.Standalone()
	st := s.NewStream()
	if s.Stream(st.ID()) != st {
		t.Fatal("with MaxStreamsPerSession=1 and a GET stream, the new POST stream was evicted at once")
	}
	st2 := s.NewStream()
	if s.Stream(st.ID()) != nil || s.Stream(st2.ID()) != st2 || s.Stream(0) == nil {
		t.Fatal("want the older POST stream evicted, the newer one and the GET stream kept")
	}
}

func TestEvictionPrefersFinished(t *testing.T) {
	_, s := newTestSession(t, Options{MaxStreamsPerSession: 3})
	get := s.Standalone()
	var st []*Stream
	for range 3 {
		st = append(st, s.NewStream()) // IDs 1, 2, 3; the GET stream does not count
	}
	r1 := st[0].Attach(0) // stream 1 stays open, with a reader
	st[1].Finish()
	st[2].Finish()

	retained := func(want ...uint64) {
		t.Helper()
		s.mu.Lock()
		n := len(s.streams)
		s.mu.Unlock()
		if n != len(want) {
			t.Fatalf("%d streams retained, want %v", n, want)
		}
		for _, id := range want {
			if s.Stream(id) == nil {
				t.Fatalf("stream %d not retained; want %v", id, want)
			}
		}
	}
	retained(0, 1, 2, 3)
	s4 := s.NewStream() // evicts the oldest finished: 2
	retained(0, 1, 3, 4)
	s.NewStream() // evicts 3, the only finished one
	retained(0, 1, 4, 5)
	s.NewStream() // none finished: evicts the oldest open, 1
	retained(0, 4, 5, 6)
	if s.Stream(0) != get {
		t.Fatal("the GET stream was evicted")
	}

	// An evicted stream's reader keeps working; it just cannot be resumed.
	appendN(t, st[0], 2)
	checkNext(t, r1, []uint64{1, 2}, 0, ReadMore)
	st[0].Finish()
	checkNext(t, r1, nil, 0, ReadFinished)
	r1.Close()
	s4.Finish()
	s.NewStream() // evicts 4, now finished
	retained(0, 5, 6, 7)
	if holds(s) != 0 {
		t.Errorf("holds = %d", holds(s))
	}
}

func TestHoldRelease(t *testing.T) {
	_, s := newTestSession(t, Options{})
	s.Hold()
	s.Hold()
	if holds(s) != 2 {
		t.Fatalf("holds = %d, want 2", holds(s))
	}
	s.Release()
	s.Release()
	if holds(s) != 0 {
		t.Fatalf("holds = %d, want 0", holds(s))
	}

	st := s.NewStream()
	var rs []*Reader
	for range 5 {
		rs = append(rs, st.Attach(0)) // each takes over from the last
	}
	get := s.Standalone()
	rg, _ := get.TryAttach()
	if holds(s) != 6 {
		t.Fatalf("holds = %d with 6 readers, want 6", holds(s))
	}
	for _, r := range rs {
		r.Close()
		r.Close()
	}
	s.End(EndDelete) // rg is detached by End
	rg.Close()
	if holds(s) != 0 {
		t.Fatalf("holds = %d after every reader closed, want 0", holds(s))
	}
}

// TestStreamConcurrent: a writer appends while readers take over from each
// other; every reader sees strictly increasing sequence numbers, and the
// last one reads to the end. Run with -race.
func TestStreamConcurrent(t *testing.T) {
	_, s := newTestSession(t, Options{MaxEventsPerStream: 16})
	st := s.NewStream()
	const total = 2000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := uint64(1); i <= total; i++ {
			st.Append([]byte("e" + strconv.FormatUint(i, 10)))
		}
		st.Finish()
	}()
	read := func(r *Reader) (last uint64, status ReadStatus) {
		defer r.Close()
		timeout := time.After(10 * time.Second)
		buf := make([]Event, 0, 32)
		for {
			evs, _, status := r.Next(buf[:0])
			for _, e := range evs {
				if e.Seq <= last {
					t.Errorf("seq %d after %d", e.Seq, last)
				}
				last = e.Seq
			}
			if status != ReadMore {
				return last, status
			}
			select {
			case <-r.Wake():
			case <-timeout:
				t.Error("reader timed out")
				return last, status
			}
		}
	}
	// A few readers, each taken over by the next.
	var rwg sync.WaitGroup
	for range 3 {
		r := st.Attach(0)
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			read(r)
		}()
	}
	wg.Wait()
	rwg.Wait()
	r := st.Attach(0)
	last, status := read(r)
	if status != ReadFinished || last != total {
		t.Fatalf("final reader: last %d status %d, want %d ReadFinished", last, status, total)
	}
	if holds(s) != 0 {
		t.Errorf("holds = %d", holds(s))
	}
}

func TestKick(t *testing.T) {
	_, s := newTestSession(t, Options{})
	st := s.NewStream()
	if st.Kick() {
		t.Fatal("Kick with no reader attached reported true")
	}
	r := st.Attach(0)
	appendN(t, st, 1)
	if !st.Kick() {
		t.Fatal("Kick with a reader attached reported false")
	}
	select {
	case _, ok := <-r.Wake():
		if ok {
			// a pending wake-up; the channel must be closed next
			if _, ok := <-r.Wake(); ok {
				t.Fatal("Wake not closed after Kick")
			}
		}
	default:
		t.Fatal("Wake not closed after Kick")
	}
	if _, _, status := r.Next(nil); status != ReadDetached {
		t.Fatalf("Next after Kick: %v, want ReadDetached", status)
	}
	r.Close()
	if st.Attached() {
		t.Fatal("still attached after Kick")
	}
	appendN(t, st, 2) // the stream goes on
	st.Finish()
	r = st.Attach(0)
	checkNext(t, r, []uint64{1, 2}, 0, ReadFinished)
	r.Close()
	if holds(s) != 0 {
		t.Errorf("holds = %d after the readers closed", holds(s))
	}
}
