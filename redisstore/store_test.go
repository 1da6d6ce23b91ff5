package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

func TestMain(m *testing.M) { testutil.Main(m, "redisstore.", "github.com/redis/rueidis") }

// newStore returns a Store on url, closed when t ends.
func newStore(t testing.TB, url string, opts *Options) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := New(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// typicalRecord returns a record as a common client's initialize leaves
// it: client info, a few capabilities, initialized, times set.
func typicalRecord(id string) *mcp.SessionRecord {
	now := time.Now().UTC()
	return &mcp.SessionRecord{
		ID:              id,
		ProtocolVersion: "2025-11-25",
		ClientInfo:      &mcp.Implementation{Name: "claude-code", Version: "2.0.14"},
		ClientCapabilities: mcp.ClientCapabilities{
			Roots:       json.RawMessage(`{"listChanged":true}`),
			Sampling:    json.RawMessage(`{}`),
			Elicitation: json.RawMessage(`{"form":{}}`),
		},
		Initialized: true,
		Created:     now,
		LastUsed:    now,
	}
}

// waitSubscribed waits until n subscribers listen on s's events channel,
// so that events published from now on reach them.
func waitSubscribed(t testing.TB, r *testutil.Redis, s *Store, n int) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, func() error {
		got, err := r.Do("PUBSUB", "NUMSUB", s.events)
		if err != nil {
			return err
		}
		if want := s.events + "\n" + strconv.Itoa(n); got != want {
			return fmt.Errorf("PUBSUB NUMSUB = %q, want %q", got, want)
		}
		return nil
	})
}

// roundTrip runs Create, Load, Save, Touch and Delete on s.
func roundTrip(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	id := s.NewID()
	if !s.ValidID(id) {
		t.Fatalf("ValidID(NewID() = %q) = false", id)
	}
	if _, err := s.Load(ctx, id); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Load before Create: %v, want ErrNotFound", err)
	}
	want := typicalRecord(id)
	if err := s.Create(ctx, want, time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Load = %+v, want %+v", got, want)
	}
	want.LogLevel = mcp.LevelWarning
	want.Subscriptions = []string{"file:///a"}
	if err := s.Save(ctx, want, true); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Load(ctx, id); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Load after Save = %+v, %v; want %+v", got, err, want)
	}
	if err := s.Save(ctx, want, false); err != nil { // no event
		t.Fatal(err)
	}
	missing := s.NewID()
	gone, err := s.Touch(ctx, []string{id, missing}, time.Minute)
	if err != nil || !slices.Equal(gone, []string{missing}) {
		t.Fatalf("Touch = %v, %v; want [%s]", gone, err, missing)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, id); err != nil {
		t.Fatalf("Delete of a missing session: %v", err)
	}
	if _, err := s.Load(ctx, id); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Load after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Save(ctx, want, true); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Save after Delete: %v, want ErrNotFound", err)
	}
	if gone, err := s.Touch(ctx, []string{id}, time.Minute); err != nil || !slices.Equal(gone, []string{id}) {
		t.Fatalf("Touch after Delete = %v, %v; want [%s]", gone, err, id)
	}
}

func TestRoundTrip(t *testing.T) {
	r := testutil.StartRedis(t)
	s := newStore(t, r.URL(), nil)
	roundTrip(t, s)
	if h := s.Health(); !h.Up || h.Errors != 0 || h.Ops == 0 || h.RTT <= 0 {
		t.Fatalf("Health = %+v, want up, no errors, some ops, an RTT", h)
	}
	if len(s.StateKey()) != 32 {
		t.Fatalf("len(StateKey()) = %d, want 32", len(s.StateKey()))
	}
}

// event is one call of a Watch function.
type event struct {
	id    string
	ended bool
}

// recorder collects the calls of a Watch function.
type recorder struct {
	mu     sync.Mutex
	events []event
}

func (r *recorder) watch(id string, ended bool) {
	r.mu.Lock()
	r.events = append(r.events, event{id, ended})
	r.mu.Unlock()
}

func (r *recorder) get() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// waitEvents waits until the events of rec about the sessions of want are
// want (events of earlier steps may still arrive for other sessions).
func waitEvents(t *testing.T, rec *recorder, want ...event) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, func() error {
		got := slices.DeleteFunc(rec.get(), func(e event) bool {
			return !slices.ContainsFunc(want, func(w event) bool { return w.id == e.id })
		})
		if !slices.Equal(got, want) {
			return fmt.Errorf("events %v, want %v", got, want)
		}
		return nil
	})
}

// twoNodes checks two stores on one Redis (or cluster): the same keys,
// each accepts the other's IDs and records, and each sees the other's
// Save and Delete, not its own.
func twoNodes(t *testing.T, a, b *Store, subscribed func()) {
	t.Helper()
	ctx := context.Background()
	if !bytes.Equal(a.StateKey(), b.StateKey()) {
		t.Fatal("two nodes on one Redis have different state keys")
	}
	var recA, recB recorder
	a.Watch(recA.watch)
	b.Watch(recB.watch)
	subscribed()
	for _, p := range [][2]*Store{{a, b}, {b, a}} {
		id := p[0].NewID()
		if !p[1].ValidID(id) {
			t.Fatalf("one node refuses the other's ID %s", id)
		}
		if err := p[0].Create(ctx, typicalRecord(id), time.Minute, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := p[1].Load(ctx, id); err != nil {
			t.Fatalf("the other node cannot load the session: %v", err)
		}
	}
	id := a.NewID()
	if err := a.Create(ctx, typicalRecord(id), time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, typicalRecord(id), true); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, &recB, event{id, false}, event{id, true})
	id2 := b.NewID()
	if err := b.Create(ctx, typicalRecord(id2), time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, id2); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, &recA, event{id2, true})
	// Each node's own events came in before the other's last ones (one
	// channel, in order), and none was reported.
	for _, own := range []struct {
		rec *recorder
		id  string
	}{{&recA, id}, {&recB, id2}} {
		if got := own.rec.get(); slices.ContainsFunc(got, func(e event) bool { return e.id == own.id }) {
			t.Fatalf("a node saw its own events: %v", got)
		}
	}
}

func TestTwoNodes(t *testing.T) {
	r := testutil.StartRedis(t)
	a := newStore(t, r.URL(), nil)
	b := newStore(t, r.URL(), nil)
	twoNodes(t, a, b, func() { waitSubscribed(t, r, a, 2) })
	other := newStore(t, testutil.StartRedis(t).URL(), nil)
	if other.ValidID(a.NewID()) || bytes.Equal(other.StateKey(), a.StateKey()) {
		t.Fatal("a node of another Redis accepts this Redis's IDs, or has its state key")
	}
}

func TestPrefix(t *testing.T) {
	r := testutil.StartRedis(t)
	a := newStore(t, r.URL(), &Options{Prefix: "a:"})
	b := newStore(t, r.URL(), &Options{Prefix: "b:"})
	if a.ValidID(b.NewID()) {
		t.Fatal("deployments with different prefixes share a secret")
	}
	id := a.NewID()
	if err := a.Create(context.Background(), typicalRecord(id), time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Do("EXISTS", "a:s:{"+id+"}"); err != nil || got != "1" {
		t.Fatalf("EXISTS a:s:{%s} = %q, %v; want 1", id, got, err)
	}
	if _, err := New(context.Background(), r.URL(), &Options{Prefix: "x{"}); err == nil {
		t.Fatal("New accepts a prefix with '{'")
	}
}

func TestCap(t *testing.T) {
	r := testutil.StartRedis(t)
	a := newStore(t, r.URL(), nil)
	b := newStore(t, r.URL(), nil)
	ctx := context.Background()
	const max = 3
	var ids []string
	for i := range max {
		s := []*Store{a, b}[i%2]
		id := s.NewID()
		if err := s.Create(ctx, typicalRecord(id), time.Minute, max); err != nil {
			t.Fatalf("Create %d of %d: %v", i+1, max, err)
		}
		ids = append(ids, id)
	}
	for _, s := range []*Store{a, b} {
		if err := s.Create(ctx, typicalRecord(s.NewID()), time.Minute, max); !errors.Is(err, sessions.ErrTooManySessions) {
			t.Fatalf("Create beyond the cap: %v, want ErrTooManySessions", err)
		}
	}
	if err := b.Delete(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := a.Create(ctx, typicalRecord(a.NewID()), time.Minute, max); err != nil {
		t.Fatalf("Create after a Delete freed a place: %v", err)
	}
	// An expired session frees its place: its score is in the past.
	short := a.NewID()
	if err := a.Delete(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := a.Create(ctx, typicalRecord(short), 20*time.Millisecond, max); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		return b.Create(ctx, typicalRecord(b.NewID()), time.Minute, max)
	})
	// A Touch keeps a session's place.
	if gone, err := b.Touch(ctx, ids[2:], time.Minute); err != nil || len(gone) != 0 {
		t.Fatalf("Touch = %v, %v", gone, err)
	}
	if got, err := r.Do("ZCARD", a.liveKey); err != nil || got != "3" {
		t.Fatalf("ZCARD live = %q, %v; want 3", got, err)
	}
}

func TestNoCapNoLiveSet(t *testing.T) {
	r := testutil.StartRedis(t)
	s := newStore(t, r.URL(), nil)
	ctx := context.Background()
	id := s.NewID()
	if err := s.Create(ctx, typicalRecord(id), time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Touch(ctx, []string{id}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Do("EXISTS", s.liveKey); err != nil || got != "0" {
		t.Fatalf("EXISTS live = %q, %v; want 0 without a cap", got, err)
	}
}

func TestTouchReportsExpired(t *testing.T) {
	r := testutil.StartRedis(t)
	s := newStore(t, r.URL(), nil)
	ctx := context.Background()
	short, long := s.NewID(), s.NewID()
	if err := s.Create(ctx, typicalRecord(short), 30*time.Millisecond, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, typicalRecord(long), time.Minute, 10); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if _, err := s.Load(ctx, short); !errors.Is(err, sessions.ErrNotFound) {
			return fmt.Errorf("Load of the expired session: %v", err)
		}
		return nil
	})
	gone, err := s.Touch(ctx, []string{short, long}, time.Minute)
	if err != nil || !slices.Equal(gone, []string{short}) {
		t.Fatalf("Touch = %v, %v; want [%s]", gone, err, short)
	}
	if got, err := r.Do("ZRANGE", s.liveKey, "0", "-1"); err != nil || got != long {
		t.Fatalf("live set = %q, %v; want only %s", got, err, long)
	}
}

func TestNewUnreachable(t *testing.T) {
	r := testutil.StartRedis(t)
	r.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	s, err := New(ctx, "redis://user:hunter2@"+r.Addr()+"/0", nil)
	if err == nil {
		_ = s.Close()
		t.Fatal("New succeeded without Redis")
	}
	if !errors.Is(err, sessions.ErrStoreUnavailable) || bytes.Contains([]byte(err.Error()), []byte("hunter2")) {
		t.Fatalf("New: %v; want ErrStoreUnavailable, no password", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("New took %v to fail", d)
	}
	if _, err := New(context.Background(), "http://"+r.Addr(), nil); err == nil {
		t.Fatal("New accepts an http URL")
	}
}

// TestRedisKilledAndRestarted checks the failure policy: with Redis gone,
// every operation fails within the timeout with ErrStoreUnavailable and
// Health shows it; when Redis is back (empty), everything works again by
// itself, the secret is back, and a new node agrees with the old one.
func TestRedisKilledAndRestarted(t *testing.T) {
	r := testutil.StartRedis(t)
	const timeout = 300 * time.Millisecond
	opts := &Options{Timeout: timeout, PingInterval: 50 * time.Millisecond}
	s := newStore(t, r.URL(), opts)
	var rec recorder
	s.Watch(rec.watch)
	ctx := context.Background()
	id := s.NewID()
	if err := s.Create(ctx, typicalRecord(id), time.Minute, 10); err != nil {
		t.Fatal(err)
	}

	r.Kill()
	testutil.WaitFor(t, 5*time.Second, func() error {
		if h := s.Health(); h.Up || h.LastError == "" {
			return fmt.Errorf("Health = %+v, want down with an error", h)
		}
		return nil
	})
	ops := map[string]func() error{
		"create": func() error { return s.Create(ctx, typicalRecord(s.NewID()), time.Minute, 10) },
		"load":   func() error { _, err := s.Load(ctx, id); return err },
		"save":   func() error { return s.Save(ctx, typicalRecord(id), true) },
		"touch":  func() error { _, err := s.Touch(ctx, []string{id}, time.Minute); return err },
		"delete": func() error { return s.Delete(ctx, id) },
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		if !errors.Is(err, sessions.ErrStoreUnavailable) {
			t.Errorf("%s with Redis down: %v, want ErrStoreUnavailable", name, err)
		}
		if d := time.Since(start); d > timeout+200*time.Millisecond {
			t.Errorf("%s with Redis down took %v, timeout %v", name, d, timeout)
		}
	}
	errs := s.Health().Errors
	if errs < uint64(len(ops)) {
		t.Errorf("Health().Errors = %d, want >= %d", errs, len(ops))
	}

	r.Restart()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if h := s.Health(); !h.Up {
			return fmt.Errorf("Health = %+v, want up", h)
		}
		return nil
	})
	testutil.WaitFor(t, 5*time.Second, func() error {
		_, err := s.Load(ctx, id)
		if !errors.Is(err, sessions.ErrNotFound) {
			return fmt.Errorf("Load after the restart: %v, want ErrNotFound (Redis came back empty)", err)
		}
		return nil
	})
	roundTrip(t, s)
	if err := s.Create(ctx, typicalRecord(s.NewID()), time.Minute, 10); err != nil {
		t.Fatalf("Create with a cap after the restart: %v", err)
	}
	// The pinger put the secret back: a node started now agrees.
	n := newStore(t, r.URL(), opts)
	if !bytes.Equal(n.StateKey(), s.StateKey()) || !n.ValidID(s.NewID()) {
		t.Fatal("a node started after the restart does not share the old node's secret")
	}
	// The subscriber is back: the old node sees the new node's events.
	waitSubscribed(t, r, s, 2)
	id2 := n.NewID()
	if err := n.Create(ctx, typicalRecord(id2), time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	if err := n.Delete(ctx, id2); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, &rec, event{id2, true})
}

// TestMemoryPerSession checks the Redis memory per idle session: MEMORY
// USAGE of a typical record's key, at most 512 bytes.
func TestMemoryPerSession(t *testing.T) {
	r := testutil.StartRedis(t)
	s := newStore(t, r.URL(), nil)
	id := s.NewID()
	rec := typicalRecord(id)
	if err := s.Create(context.Background(), rec, 30*time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	got, err := r.Do("MEMORY", "USAGE", s.recordKey(id), "SAMPLES", "0")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(got)
	if err != nil {
		t.Fatal(err)
	}
	size, _ := r.Do("STRLEN", s.recordKey(id))
	t.Logf("MEMORY USAGE %s = %d bytes (value %s bytes)", s.recordKey(id), n, size)
	if n > 512 {
		t.Fatalf("MEMORY USAGE = %d bytes, want <= 512", n)
	}
}

// TestMemoryLiveSet measures what the cap's live set adds per session
// (MEMORY USAGE of the sorted set with 1000 members, divided by 1000).
func TestMemoryLiveSet(t *testing.T) {
	r := testutil.StartRedis(t)
	s := newStore(t, r.URL(), nil)
	const n = 1000
	for range n {
		if err := s.Create(context.Background(), typicalRecord(s.NewID()), 30*time.Minute, 2*n); err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.Do("MEMORY", "USAGE", s.liveKey, "SAMPLES", "0")
	if err != nil {
		t.Fatal(err)
	}
	total, err := strconv.Atoi(got)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("live set: %d bytes per session", total/n)
}

func TestClose(t *testing.T) {
	r := testutil.StartRedis(t)
	s := newStore(t, r.URL(), nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(context.Background(), s.NewID()); !errors.Is(err, sessions.ErrStoreUnavailable) {
		t.Fatalf("Load after Close: %v, want ErrStoreUnavailable", err)
	}
}

// TestNoExpiry checks ttl <= 0: a record without a TTL, admitted with an
// infinite expiry score, kept by Save (KEEPTTL) and Touch.
func TestNoExpiry(t *testing.T) {
	r := testutil.StartRedis(t)
	s := newStore(t, r.URL(), nil)
	ctx := context.Background()
	id := s.NewID()
	if err := s.Create(ctx, typicalRecord(id), 0, 5); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, typicalRecord(id), false); err != nil {
		t.Fatal(err)
	}
	if gone, err := s.Touch(ctx, []string{id, s.NewID()}, 0); err != nil || len(gone) != 1 {
		t.Fatalf("Touch(ttl 0) = %v, %v; want the missing ID gone", gone, err)
	}
	if got, err := r.Do("PTTL", s.recordKey(id)); err != nil || got != "-1" {
		t.Fatalf("PTTL = %q, %v; want -1 (no expiry)", got, err)
	}
	if got, err := r.Do("ZSCORE", s.liveKey, id); err != nil || got != "inf" {
		t.Fatalf("ZSCORE = %q, %v; want inf", got, err)
	}
}

// TestRedisHung checks the timeout: with Redis stopped (SIGSTOP, its
// connections open), operations fail with ErrStoreUnavailable at their
// timeout, or at the context's earlier deadline, and work again once it
// continues.
func TestRedisHung(t *testing.T) {
	r := testutil.StartRedis(t)
	const timeout = 200 * time.Millisecond
	s := newStore(t, r.URL(), &Options{Timeout: timeout, PingInterval: 50 * time.Millisecond})
	ctx := context.Background()
	id := s.NewID()
	if err := s.Create(ctx, typicalRecord(id), time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	r.Pause()
	defer r.Resume()
	start := time.Now()
	_, err := s.Load(ctx, id)
	if d := time.Since(start); !errors.Is(err, sessions.ErrStoreUnavailable) || d < timeout || d > timeout+300*time.Millisecond {
		t.Fatalf("Load with Redis hung: %v after %v; want ErrStoreUnavailable after %v", err, d, timeout)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := s.Touch(short, []string{id}, time.Minute); !errors.Is(err, sessions.ErrStoreUnavailable) || time.Since(start) > timeout {
		t.Fatalf("Touch with a 50 ms deadline: %v after %v", err, time.Since(start))
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if s.Health().Up {
			return errors.New("Health up with Redis hung")
		}
		return nil
	})
	r.Resume()
	testutil.WaitFor(t, 10*time.Second, func() error {
		_, err := s.Load(ctx, id)
		return err
	})
	testutil.WaitFor(t, 5*time.Second, func() error {
		if !s.Health().Up {
			return errors.New("Health down after Redis continued")
		}
		return nil
	})
}

// TestCapConcurrent checks that the cap is exact under concurrent
// Creates from two nodes: the admission is one script.
func TestCapConcurrent(t *testing.T) {
	r := testutil.StartRedis(t)
	nodes := []*Store{newStore(t, r.URL(), nil), newStore(t, r.URL(), nil)}
	const max, tries = 10, 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted, refused := 0, 0
	for i := range tries {
		wg.Go(func() {
			s := nodes[i%2]
			err := s.Create(context.Background(), typicalRecord(s.NewID()), time.Minute, max)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				admitted++
			case errors.Is(err, sessions.ErrTooManySessions):
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if admitted != max || refused != tries-max {
		t.Fatalf("%d admitted, %d refused; want %d, %d", admitted, refused, max, tries-max)
	}
}
