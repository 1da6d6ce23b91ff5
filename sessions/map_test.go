package sessions

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// endLog records OnEnd calls.
type endLog struct {
	mu    sync.Mutex
	calls map[*Session][]EndReason
	n     int
}

func newEndLog() *endLog { return &endLog{calls: make(map[*Session][]EndReason)} }

func (l *endLog) onEnd(s *Session, r EndReason) {
	l.mu.Lock()
	l.calls[s] = append(l.calls[s], r)
	l.n++
	l.mu.Unlock()
}

// check fails unless OnEnd was called exactly once for s, with want.
func (l *endLog) check(t *testing.T, s *Session, want EndReason) {
	t.Helper()
	l.mu.Lock()
	got := l.calls[s]
	l.mu.Unlock()
	if len(got) != 1 || got[0] != want {
		t.Errorf("OnEnd calls for %s: %v, want exactly [%v]", s.ID(), got, want)
	}
}

func (l *endLog) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// newTestMap returns a Map with no sweeper (unless opts set IdleTimeout)
// that is closed when the test ends.
func newTestMap(t testing.TB, opts Options) *Map {
	t.Helper()
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = -1
	}
	m := New(&opts)
	t.Cleanup(m.Close)
	return m
}

func mustCreate(t testing.TB, m *Map) *Session {
	t.Helper()
	s, err := m.Create("2025-11-25", nil)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return s
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestCreateLookupEnd(t *testing.T) {
	log := newEndLog()
	m := newTestMap(t, Options{OnEnd: log.onEnd})
	before := time.Now()
	conn := newTestConn("2025-03-26")
	s, err := m.Create("2025-03-26", conn)
	if err != nil {
		t.Fatal(err)
	}
	if !ValidID(s.ID()) {
		t.Errorf("ID %q is not valid", s.ID())
	}
	if s.ProtocolVersion() != "2025-03-26" || s.Conn() != conn {
		t.Errorf("version %q conn %v, want %q %v", s.ProtocolVersion(), s.Conn(), "2025-03-26", conn)
	}
	if s.Created().Before(before) || s.Created().After(time.Now()) {
		t.Errorf("Created = %v, not within the test", s.Created())
	}
	if got := m.Lookup(s.ID()); got != s {
		t.Fatalf("Lookup = %p, want %p", got, s)
	}
	// Lookup works with an ID built from other memory, as a header is.
	if got := m.Lookup(string([]byte(s.ID()))); got != s {
		t.Fatalf("Lookup(copy) = %p, want %p", got, s)
	}
	if m.Len() != 1 || s.Reason() != 0 || isClosed(s.Done()) {
		t.Fatalf("Len %d Reason %v Done closed %v; want 1, 0, false", m.Len(), s.Reason(), isClosed(s.Done()))
	}
	s2 := mustCreate(t, m)
	if s2.ID() == s.ID() {
		t.Fatalf("two sessions share ID %s", s.ID())
	}

	if !s.End(EndDelete) {
		t.Fatal("End = false on a live session")
	}
	if s.End(EndClosed) {
		t.Error("second End = true")
	}
	if m.Lookup(s.ID()) != nil {
		t.Error("Lookup finds an ended session")
	}
	if m.Lookup(s2.ID()) != s2 {
		t.Error("ending one session lost another")
	}
	if m.Len() != 1 || s.Reason() != EndDelete || !isClosed(s.Done()) {
		t.Errorf("after End: Len %d Reason %v Done closed %v", m.Len(), s.Reason(), isClosed(s.Done()))
	}
	log.check(t, s, EndDelete)
	if log.total() != 1 {
		t.Errorf("OnEnd called %d times, want 1", log.total())
	}
}

func TestLookupMalformed(t *testing.T) {
	m := newTestMap(t, Options{})
	s := mustCreate(t, m)
	id := s.ID()
	for _, bad := range []string{
		"",
		id[:IDLen-1],
		id + "0",
		strings.ToUpper(id),
		"g" + id[1:],
		" " + id[1:],
		id[:IDLen-1] + "\x00",
		id[:16] + "-" + id[17:],
		"0000000000000000000000000000000Z",
		"../../../../../../../../../../..",
		strings.Repeat("é", 16),
	} {
		if got := m.Lookup(bad); got != nil {
			t.Errorf("Lookup(%q) = %s, want nil", bad, got.ID())
		}
	}
	// Well formed but unknown.
	if got := m.Lookup(NewID()); got != nil {
		t.Errorf("Lookup(unknown) = %s, want nil", got.ID())
	}
	if m.Lookup(id) != s {
		t.Error("Lookup(id) lost the session")
	}
}

func TestMaxSessions(t *testing.T) {
	m := newTestMap(t, Options{MaxSessions: 3})
	var live []*Session
	for range 3 {
		live = append(live, mustCreate(t, m))
	}
	for range 2 {
		if s, err := m.Create("v", nil); !errors.Is(err, ErrTooManySessions) || s != nil {
			t.Fatalf("Create past the cap = %v, %v; want nil, ErrTooManySessions", s, err)
		}
	}
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3", m.Len())
	}
	for _, s := range live {
		if m.Lookup(s.ID()) != s {
			t.Fatalf("session %s lost when the cap was hit", s.ID())
		}
		if st := s.NewStream(); st == nil {
			t.Fatalf("session %s does not work at the cap", s.ID())
		}
	}
	live[1].End(EndDelete)
	s := mustCreate(t, m) // the slot is free again
	if m.Lookup(s.ID()) != s || m.Len() != 3 {
		t.Fatalf("Lookup after refill = %v, Len %d", m.Lookup(s.ID()), m.Len())
	}
	if _, err := m.Create("v", nil); !errors.Is(err, ErrTooManySessions) {
		t.Fatalf("Create = %v, want ErrTooManySessions", err)
	}
}

func TestNoCap(t *testing.T) {
	m := newTestMap(t, Options{MaxSessions: -1})
	for range 10 {
		mustCreate(t, m)
	}
	if m.Len() != 10 {
		t.Fatalf("Len = %d, want 10", m.Len())
	}
}

func TestOptionsDefaults(t *testing.T) {
	m := New(nil)
	defer m.Close()
	o := m.Options()
	if o.IdleTimeout != DefaultIdleTimeout || o.MaxSessions != DefaultMaxSessions ||
		o.MaxEventsPerStream != DefaultMaxEventsPerStream || o.MaxStreamsPerSession != DefaultMaxStreamsPerSession {
		t.Errorf("defaults = %+v", o)
	}
}

func TestCloseEndsAll(t *testing.T) {
	log := newEndLog()
	m := New(&Options{IdleTimeout: time.Hour, OnEnd: log.onEnd})
	var all []*Session
	for range 20 {
		all = append(all, mustCreate(t, m))
	}
	all[0].End(EndDelete)
	m.Close()
	if m.Len() != 0 {
		t.Errorf("Len after Close = %d", m.Len())
	}
	m.Range(func(s *Session) bool {
		t.Errorf("Range after Close sees %s", s.ID())
		return true
	})
	log.check(t, all[0], EndDelete)
	for _, s := range all[1:] {
		log.check(t, s, EndShutdown)
		if s.Reason() != EndShutdown || !isClosed(s.Done()) {
			t.Errorf("session %s: Reason %v, Done closed %v", s.ID(), s.Reason(), isClosed(s.Done()))
		}
	}
	if _, err := m.Create("v", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Create after Close = %v, want ErrClosed", err)
	}
	m.Close() // idempotent
	if log.total() != len(all) {
		t.Errorf("OnEnd called %d times, want %d", log.total(), len(all))
	}
}

// TestEndOnce races End with different reasons: one wins, OnEnd runs once
// with the winner's reason.
func TestEndOnce(t *testing.T) {
	log := newEndLog()
	m := newTestMap(t, Options{OnEnd: log.onEnd})
	reasons := []EndReason{EndDelete, EndIdle, EndShutdown, EndClosed}
	for range 50 {
		s := mustCreate(t, m)
		var wg sync.WaitGroup
		won := make(chan EndReason, len(reasons))
		for _, r := range reasons {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if s.End(r) {
					won <- r
				}
			}()
		}
		wg.Wait()
		close(won)
		var winners []EndReason
		for r := range won {
			winners = append(winners, r)
		}
		if len(winners) != 1 {
			t.Fatalf("End returned true %d times", len(winners))
		}
		if s.Reason() != winners[0] {
			t.Fatalf("Reason = %v, winner %v", s.Reason(), winners[0])
		}
		log.check(t, s, winners[0])
	}
	if m.Len() != 0 {
		t.Errorf("Len = %d", m.Len())
	}
}

func TestEndReasonString(t *testing.T) {
	for r, want := range map[EndReason]string{
		EndDelete: "delete", EndIdle: "idle", EndShutdown: "shutdown", EndClosed: "closed", 0: "live",
	} {
		if got := r.String(); got != want {
			t.Errorf("EndReason(%d).String() = %q, want %q", r, got, want)
		}
	}
}

func TestExpireIdle(t *testing.T) {
	const idle = time.Hour
	log := newEndLog()
	m := newTestMap(t, Options{IdleTimeout: idle, OnEnd: log.onEnd})
	a := mustCreate(t, m)
	b := mustCreate(t, m)
	b.Hold()
	c := mustCreate(t, m)
	r := c.NewStream().Attach(0) // an attached reader holds too

	if n := m.ExpireIdle(time.Now()); n != 0 {
		t.Fatalf("ExpireIdle(now) = %d, want 0", n)
	}
	if n := m.ExpireIdle(time.Now().Add(idle / 2)); n != 0 {
		t.Fatalf("ExpireIdle(now+idle/2) = %d, want 0", n)
	}
	if n := m.ExpireIdle(time.Now().Add(idle + time.Second)); n != 1 {
		t.Fatalf("ExpireIdle(now+idle) = %d, want 1 (only the session not held)", n)
	}
	if a.Reason() != EndIdle || m.Lookup(a.ID()) != nil {
		t.Errorf("a: Reason %v, still in the map %v", a.Reason(), m.Lookup(a.ID()) != nil)
	}
	log.check(t, a, EndIdle)
	if b.Reason() != 0 || c.Reason() != 0 {
		t.Fatalf("held sessions ended: b %v c %v", b.Reason(), c.Reason())
	}

	b.Release() // records activity now
	r.Close()
	if n := m.ExpireIdle(time.Now().Add(idle / 2)); n != 0 {
		t.Fatalf("ExpireIdle right after Release = %d, want 0", n)
	}
	if n := m.ExpireIdle(time.Now().Add(idle + time.Second)); n != 2 {
		t.Fatalf("ExpireIdle after Release = %d, want 2", n)
	}
	log.check(t, b, EndIdle)
	log.check(t, c, EndIdle)
	if m.Len() != 0 {
		t.Errorf("Len = %d", m.Len())
	}
}

func TestTouchPostponesExpiry(t *testing.T) {
	const idle = time.Hour
	m := newTestMap(t, Options{IdleTimeout: idle})
	s := mustCreate(t, m)
	created := s.lastActive.Load()
	testutil.WaitFor(t, time.Second, func() error {
		if time.Now().UnixNano() <= created {
			return errors.New("the clock did not move")
		}
		return nil
	})
	s.Touch()
	at := time.Unix(0, created).Add(idle + 1) // idle since creation, not since Touch
	if n := m.ExpireIdle(at); n != 0 {
		t.Fatalf("ExpireIdle = %d after Touch, want 0", n)
	}
	if n := m.ExpireIdle(time.Unix(0, s.lastActive.Load()).Add(idle + 1)); n != 1 {
		t.Fatalf("ExpireIdle = %d, want 1", n)
	}
}

func TestExpireIdleDisabled(t *testing.T) {
	m := newTestMap(t, Options{IdleTimeout: -1})
	s := mustCreate(t, m)
	if n := m.ExpireIdle(time.Now().Add(1000 * time.Hour)); n != 0 || s.Reason() != 0 {
		t.Fatalf("ExpireIdle with no timeout = %d, Reason %v", n, s.Reason())
	}
}

// TestSweeperExpires lets the real sweeper end an idle session: the
// sweep interval is at least 1 s, so this takes about a second.
func TestSweeperExpires(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for one sweep (about 1 s)")
	}
	log := newEndLog()
	m := newTestMap(t, Options{IdleTimeout: 10 * time.Millisecond, OnEnd: log.onEnd})
	s := mustCreate(t, m)
	held := mustCreate(t, m)
	held.Hold()
	// OnEnd runs after Done is closed: wait for it, not for Done.
	testutil.WaitFor(t, 10*time.Second, func() error {
		if n := log.total(); n != 1 {
			return fmt.Errorf("OnEnd called %d times, want 1 (the idle session)", n)
		}
		return nil
	})
	log.check(t, s, EndIdle)
	if held.Reason() != 0 {
		t.Errorf("the sweeper ended a held session")
	}
}

// TestSweeperExits checks that the Map's one goroutine exits on Close.
func TestSweeperExits(t *testing.T) {
	base := runtime.NumGoroutine()
	m := New(&Options{IdleTimeout: time.Hour})
	if n := runtime.NumGoroutine(); n != base+1 {
		t.Errorf("goroutines after New = %d, want %d", n, base+1)
	}
	mustCreate(t, m)
	m.Close()
	testutil.WaitFor(t, 5*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > base {
			return fmt.Errorf("%d goroutines, want %d: the sweeper did not exit", n, base)
		}
		return nil
	})

	// No sweeper at all without an idle timeout.
	m = New(&Options{IdleTimeout: -1})
	if n := runtime.NumGoroutine(); n != base {
		t.Errorf("goroutines with IdleTimeout<0 = %d, want %d", n, base)
	}
	m.Close()
}

// TestMapConcurrent runs creators, lookers-up, enders, expiry and Range at
// once; run it with -race.
func TestMapConcurrent(t *testing.T) {
	log := newEndLog()
	m := newTestMap(t, Options{IdleTimeout: time.Hour, OnEnd: log.onEnd})
	const workers, perWorker = 8, 300
	ids := make(chan string, workers*perWorker)
	var created sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range workers {
		created.Add(1)
		go func() {
			defer created.Done()
			var mine []*Session
			for i := range perWorker {
				s, err := m.Create("v", nil)
				if err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				mu.Lock()
				total++
				mu.Unlock()
				if m.Lookup(s.ID()) != s {
					t.Errorf("Lookup of a fresh session failed")
				}
				s.NewStream().Append([]byte(`{}`))
				ids <- s.ID() // from now on another goroutine may end it
				mine = append(mine, s)
				if i%3 == 0 {
					mine[0].End(EndDelete)
					mine = mine[1:]
				}
			}
			for _, s := range mine {
				s.End(EndClosed)
			}
		}()
	}
	stop := make(chan struct{})
	var others sync.WaitGroup
	for range 2 { // lookers-up of other workers' sessions, which may end at any time
		others.Add(1)
		go func() {
			defer others.Done()
			for {
				select {
				case id := <-ids:
					if s := m.Lookup(id); s != nil && s.ID() != id {
						t.Errorf("Lookup(%s) returned %s", id, s.ID())
					}
					if s := m.Lookup(id); s != nil && halfOf(s) {
						s.End(EndIdle)
					}
				case <-stop:
					return
				}
			}
		}()
	}
	others.Add(1)
	go func() {
		defer others.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			m.ExpireIdle(time.Now()) // nothing is idle for an hour: ends nothing
			m.Range(func(s *Session) bool { return s.ID() != "" })
		}
	}()
	created.Wait()
	close(stop)
	others.Wait()
	if m.Len() != 0 {
		t.Errorf("Len = %d after every session ended", m.Len())
	}
	if got := log.total(); got != total {
		t.Errorf("OnEnd called %d times for %d sessions", got, total)
	}
}

// halfOf picks about half the sessions, by ID.
func halfOf(s *Session) bool { return s.ID()[0] < '8' }

// TestCreateCloseRace: sessions created while Close runs are either ended
// by Close or refused with ErrClosed; none is left behind.
func TestCreateCloseRace(t *testing.T) {
	for range 20 {
		log := newEndLog()
		m := New(&Options{IdleTimeout: -1, OnEnd: log.onEnd})
		var wg sync.WaitGroup
		var mu sync.Mutex
		var ok []*Session
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					s, err := m.Create("v", nil)
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("Create: %v", err)
						return
					}
					mu.Lock()
					ok = append(ok, s)
					mu.Unlock()
				}
			}()
		}
		testutil.WaitFor(t, 5*time.Second, func() error {
			if n := m.Len(); n <= 10 {
				return fmt.Errorf("%d sessions, want more than 10", n)
			}
			return nil
		})
		m.Close()
		wg.Wait()
		if m.Len() != 0 {
			t.Fatalf("Len = %d after Close", m.Len())
		}
		m.Range(func(s *Session) bool {
			t.Fatalf("session %s left in the map after Close", s.ID())
			return false
		})
		for _, s := range ok {
			if s.Reason() != EndShutdown {
				t.Fatalf("session %s: Reason %v after Close, want shutdown", s.ID(), s.Reason())
			}
		}
		// Create also ends, with EndShutdown, a session that lost the race
		// with Close, so OnEnd may have seen more sessions than were handed out.
		log.mu.Lock()
		for s, rs := range log.calls {
			if len(rs) != 1 || rs[0] != EndShutdown {
				t.Fatalf("OnEnd calls for %s: %v, want [shutdown]", s.ID(), rs)
			}
		}
		for _, s := range ok {
			if len(log.calls[s]) != 1 {
				t.Fatalf("OnEnd calls for %s: %v", s.ID(), log.calls[s])
			}
		}
		log.mu.Unlock()
	}
}
