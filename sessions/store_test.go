package sessions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/redisstore"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// These tests run a [sessions.Map] on a [redisstore.Store] against a real
// redis-server of their own (testutil.StartRedis, a free port): two Maps,
// each with its Store, on one Redis stand for two nodes.

const version = mcp.Version20251125

// newStore returns a Store on r, closed when the test ends (after the
// Maps made later, which the cleanup closes first).
func newStore(t testing.TB, r *testutil.Redis) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(context.Background(), r.URL(), &redisstore.Options{Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// A node is one Map on its own Store, rebuilding other nodes' sessions
// with an mcp.Server (Options.Restore).
type node struct {
	store *redisstore.Store
	srv   *mcp.Server
	m     *sessions.Map
}

func newNode(t testing.TB, r *testutil.Redis) *node {
	t.Helper()
	n := &node{store: newStore(t, r), srv: mcp.NewServer(mcp.Implementation{Name: "test", Version: "1"}, nil)}
	n.m = sessions.New(&sessions.Options{
		IdleTimeout: time.Minute,
		Store:       n.store,
		Restore: func(_ *sessions.Session, rec *mcp.SessionRecord) (mcp.Conn, error) {
			return n.srv.Restore(rec)
		},
	})
	t.Cleanup(n.m.Close)
	return n
}

// create starts a session on n, as an initialize would.
func (n *node) create(t testing.TB) *sessions.Session {
	t.Helper()
	conn, err := n.srv.Restore(&mcp.SessionRecord{
		ProtocolVersion: version,
		ClientInfo:      &mcp.Implementation{Name: "client", Version: "1"},
		Initialized:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.m.Create(version, conn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustResolve resolves id on m and fails t on an error.
func mustResolve(t testing.TB, m *sessions.Map, id string) *sessions.Session {
	t.Helper()
	s, err := m.Resolve(id)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", id, err)
	}
	return s
}

// waitSubscribed waits until n Stores listen to the events channel, so
// that one node's Save and Delete reach the others.
func waitSubscribed(t testing.TB, r *testutil.Redis, n int) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, func() error {
		got, err := r.Do("PUBSUB", "NUMSUB", redisstore.DefaultPrefix+"events")
		if err != nil {
			return err
		}
		_, count, _ := strings.Cut(got, "\n")
		if c, _ := strconv.Atoi(count); c < n {
			return fmt.Errorf("%s subscribers to the events channel, want %d", count, n)
		}
		return nil
	})
}

// gets returns how many GETs r served since its last CONFIG RESETSTAT
// (INFO commandstats).
func gets(t testing.TB, r *testutil.Redis) int {
	t.Helper()
	info, err := r.Do("INFO", "commandstats")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_get:calls="); ok {
			n, _, _ := strings.Cut(rest, ",")
			calls, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("INFO commandstats: %q", line)
			}
			return calls
		}
	}
	return 0
}

func resetStats(t testing.TB, r *testutil.Redis) {
	t.Helper()
	if _, err := r.Do("CONFIG", "RESETSTAT"); err != nil {
		t.Fatal(err)
	}
}

// TestStoreResolveRebuilds: a session created on node A is served by
// node B, which rebuilds it from its record once and then holds it.
func TestStoreResolveRebuilds(t *testing.T) {
	r := testutil.StartRedis(t)
	a, b := newNode(t, r), newNode(t, r)
	s := a.create(t)

	got := mustResolve(t, b.m, s.ID())
	if got == nil {
		t.Fatalf("B does not resolve the session A created")
	}
	if got == s || got.ID() != s.ID() || got.ProtocolVersion() != version {
		t.Fatalf("B resolved %p %s %s, want its own session %s %s", got, got.ID(), got.ProtocolVersion(), s.ID(), version)
	}
	rec := got.Conn().State().Record()
	if !rec.Initialized || rec.ClientInfo == nil || rec.ClientInfo.Name != "client" {
		t.Errorf("B's rebuilt state = %+v, want A's (initialized, client info)", rec)
	}
	if again := mustResolve(t, b.m, s.ID()); again != got {
		t.Errorf("B's second Resolve = %p, want the session it holds, %p", again, got)
	}
	if n := b.m.Len(); n != 1 {
		t.Errorf("B holds %d sessions, want 1", n)
	}
}

// TestStoreDeleteEndsEverywhere: a DELETE on A ends the session B holds
// (EndGone), within a bounded wait, and neither node resolves it again.
func TestStoreDeleteEndsEverywhere(t *testing.T) {
	r := testutil.StartRedis(t)
	a, b := newNode(t, r), newNode(t, r)
	s := a.create(t)
	onB := mustResolve(t, b.m, s.ID())
	if onB == nil {
		t.Fatal("B does not resolve the session A created")
	}
	waitSubscribed(t, r, 2)

	if !s.End(sessions.EndDelete) {
		t.Fatal("End(EndDelete) on A did not end the session")
	}
	select {
	case <-onB.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("B still holds the session 5s after A's DELETE")
	}
	if got := onB.Reason(); got != sessions.EndGone {
		t.Errorf("B's session ended with %v, want %v", got, sessions.EndGone)
	}
	for name, n := range map[string]*node{"A": a, "B": b} {
		if got := mustResolve(t, n.m, s.ID()); got != nil {
			t.Errorf("%s resolves the deleted session", name)
		}
	}
}

// TestStoreGoneIDOneLookup: an ID of the right shape that Redis does not
// know costs one GET, then none (the Map remembers it as dead).
func TestStoreGoneIDOneLookup(t *testing.T) {
	r := testutil.StartRedis(t)
	a, b := newNode(t, r), newNode(t, r)
	id := a.store.NewID() // valid on every node, never created
	resetStats(t, r)
	for i := range 10 {
		if got := mustResolve(t, b.m, id); got != nil {
			t.Fatalf("Resolve %d of an unknown ID = %v, want nil", i, got)
		}
		if n := gets(t, r); n != 1 {
			t.Fatalf("after %d Resolves of a gone ID: %d GETs, want 1", i+1, n)
		}
	}
}

// TestStoreStateChangeSeenStale: a change of state on A (logging/setLevel)
// is saved when its request ends (Release); B, which holds the session,
// sees it stale and reloads it with one GET, and not before.
func TestStoreStateChangeSeenStale(t *testing.T) {
	r := testutil.StartRedis(t)
	a, b := newNode(t, r), newNode(t, r)
	s := a.create(t)
	onB := mustResolve(t, b.m, s.ID())
	if onB == nil {
		t.Fatal("B does not resolve the session A created")
	}
	waitSubscribed(t, r, 2)
	resetStats(t, r)
	if got := mustResolve(t, b.m, s.ID()); got != onB || gets(t, r) != 0 {
		t.Fatalf("B's Resolve of a fresh session: %p and %d GETs, want %p and none", got, gets(t, r), onB)
	}

	st := s.Conn().State()
	rev := st.Revision()
	s.Hold()
	_, jerr := s.Conn().Handle(&mcp.Call{Session: st, Method: mcp.MethodLoggingSetLevel,
		ID: json.RawMessage(`1`), Params: json.RawMessage(`{"level":"error"}`)})
	if jerr != nil {
		t.Fatalf("logging/setLevel: %v", jerr)
	}
	if st.Revision() == rev {
		t.Fatal("logging/setLevel did not change the state's revision")
	}
	s.Release() // saves the record

	testutil.WaitFor(t, 5*time.Second, func() error {
		got, err := b.m.Resolve(s.ID())
		if err != nil {
			return err
		}
		if got != onB {
			return fmt.Errorf("B resolved %p, want the session it holds, %p", got, onB)
		}
		if lvl := got.Conn().State().Record().LogLevel; lvl != mcp.LevelError {
			return fmt.Errorf("B's log level is %q, want %q", lvl, mcp.LevelError)
		}
		return nil
	})
	if n := gets(t, r); n != 1 {
		t.Errorf("B reloaded the changed session with %d GETs, want 1", n)
	}
	mustResolve(t, b.m, s.ID())
	if n := gets(t, r); n != 1 {
		t.Errorf("B's Resolve after the reload sent a GET (%d in all), want none", n)
	}
}

// TestStoreDown: with Redis gone, a session held here is still served,
// and an unknown valid ID is an error wrapping ErrStoreUnavailable (the
// transport's 503), not a 404.
func TestStoreDown(t *testing.T) {
	r := testutil.StartRedis(t)
	a, b := newNode(t, r), newNode(t, r)
	s := a.create(t)
	r.Kill()

	if got := mustResolve(t, a.m, s.ID()); got != s {
		t.Errorf("A's Resolve of the session it holds, Redis down = %v, want %p", got, s)
	}
	for name, n := range map[string]*node{"A, a new ID": a, "B, A's session": b} {
		id := s.ID()
		if n == a {
			id = a.store.NewID()
		}
		got, err := n.m.Resolve(id)
		if got != nil || !errors.Is(err, sessions.ErrStoreUnavailable) {
			t.Errorf("%s, Redis down: Resolve = %v, %v; want nil and an error wrapping ErrStoreUnavailable", name, got, err)
		}
	}
}
