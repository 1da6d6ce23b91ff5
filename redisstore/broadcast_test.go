package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// A bcastRec records what a Store's OnBroadcast was called with.
type bcastRec struct {
	mu  sync.Mutex
	ids []sessions.Cursor
	ps  []string
}

func (r *bcastRec) on(id sessions.Cursor, p []byte) {
	r.mu.Lock()
	r.ids = append(r.ids, id)
	r.ps = append(r.ps, string(p))
	r.mu.Unlock()
}

func (r *bcastRec) get() ([]sessions.Cursor, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids), slices.Clone(r.ps)
}

// waitCount waits until r holds n deliveries.
func (r *bcastRec) waitCount(t *testing.T, n int) ([]sessions.Cursor, []string) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if ids, _ := r.get(); len(ids) < n {
			return fmt.Errorf("%d broadcasts delivered, want %d", len(ids), n)
		}
		return nil
	})
	return r.get()
}

// testBroadcastLog: two nodes broadcast, interleaved; both deliver every
// broadcast, their own included, in one order (the same IDs, ascending),
// which keeps the order of each node's calls; ReadBroadcasts reads the
// log back, and PauseBroadcasts sees the last entry delivered.
func testBroadcastLog(t *testing.T, a, b *Store) {
	var ra, rb bcastRec
	a.OnBroadcast(ra.on)
	b.OnBroadcast(rb.on)
	const n = 200
	var wg sync.WaitGroup
	wg.Add(2)
	for _, s := range []*Store{a, b} {
		go func() { // owner: the test; exit: after n broadcasts
			defer wg.Done()
			for i := range n {
				s.Broadcast([]byte(s.NodeID() + " " + strconv.Itoa(i)))
			}
		}()
	}
	wg.Wait()
	ida, pa := ra.waitCount(t, 2*n)
	idb, pb := rb.waitCount(t, 2*n)
	if !slices.Equal(ida, idb) || !slices.Equal(pa, pb) {
		t.Fatalf("the nodes delivered different sequences:\na %v\nb %v", pa, pb)
	}
	for i := 1; i < len(ida); i++ {
		if !ida[i-1].Less(ida[i]) {
			t.Fatalf("entry %d's ID %v is not after %v", i, ida[i], ida[i-1])
		}
	}
	next := map[string]int{}
	for _, p := range pa {
		node, i, _ := cutLast(p)
		if i != next[node] {
			t.Fatalf("node %s's broadcast %d delivered where %d was due: its order is not kept", node, i, next[node])
		}
		next[node]++
	}
	a.PauseBroadcasts(func(pos sessions.Cursor) {
		if pos != ida[len(ida)-1] {
			t.Errorf("PauseBroadcasts position %v, want the last delivered %v", pos, ida[len(ida)-1])
		}
	})
	ctx := context.Background()
	bs, gap, err := b.ReadBroadcasts(ctx, ida[9], sessions.Cursor{}, 0)
	if err != nil || gap || len(bs) != 2*n-10 || bs[0].ID != ida[10] || string(bs[0].Payload) != pa[10] {
		t.Fatalf("ReadBroadcasts after entry 9 = %d entries (first %+v), gap %v, %v; want %d from %v", len(bs), bs[0], gap, err, 2*n-10, ida[10])
	}
	bs, _, err = b.ReadBroadcasts(ctx, ida[9], ida[19], 0)
	if err != nil || len(bs) != 10 || bs[9].ID != ida[19] {
		t.Fatalf("ReadBroadcasts (entry 9, entry 19] = %d entries, %v; want 10", len(bs), err)
	}
	bs, _, err = b.ReadBroadcasts(ctx, ida[9], sessions.Cursor{}, 3)
	if err != nil || len(bs) != 3 {
		t.Fatalf("ReadBroadcasts at most 3 = %d entries, %v", len(bs), err)
	}
	if h := a.Health(); h.BroadcastsLocal != 0 || h.BroadcastsDropped != 0 {
		t.Errorf("Health: %d local, %d dropped; want none", h.BroadcastsLocal, h.BroadcastsDropped)
	}
}

// cutLast splits "<node> <i>".
func cutLast(p string) (string, int, bool) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == ' ' {
			n, err := strconv.Atoi(p[i+1:])
			return p[:i], n, err == nil
		}
	}
	return p, 0, false
}

func TestBroadcastLog(t *testing.T) {
	r := testutil.StartRedis(t)
	testBroadcastLog(t, newStore(t, r.URL(), nil), newStore(t, r.URL(), nil))
}

// TestBroadcastLogBound: the log keeps about BroadcastLogLen entries
// (MAXLEN ~), and a read after an entry it dropped reports the gap. (A
// burst larger than the bound outruns the consumers: what it dropped
// before they read it is lost to them.)
func TestBroadcastLogBound(t *testing.T) {
	r := testutil.StartRedis(t)
	s := newStore(t, r.URL(), &Options{BroadcastLogLen: 200})
	var rec bcastRec
	s.OnBroadcast(rec.on)
	const n = 2000
	for i := range n {
		s.Broadcast([]byte(strconv.Itoa(i)))
	}
	ids, _ := rec.waitCount(t, 1)
	first := ids[0]
	testutil.WaitFor(t, 10*time.Second, func() error { // the last one: the burst outran the bound, the consumer may have missed some
		if _, ps := rec.get(); !slices.Contains(ps, strconv.Itoa(n-1)) {
			return fmt.Errorf("%d broadcasts delivered, not yet the last", len(ps))
		}
		return nil
	})
	xlen, err := r.Do("XLEN", s.broadcastKey())
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := strconv.Atoi(xlen); l < 200 || l > 400 {
		t.Errorf("XLEN of the log = %d, want about 200 (MAXLEN ~ 200)", l)
	}
	_, gap, err := s.ReadBroadcasts(context.Background(), first, sessions.Cursor{}, 0)
	if err != nil || !gap {
		t.Errorf("ReadBroadcasts after the first entry, long dropped: gap %v, %v; want a gap", gap, err)
	}
	ids, _ = rec.get()
	if _, gap, _ := s.ReadBroadcasts(context.Background(), ids[len(ids)-10], sessions.Cursor{}, 0); gap {
		t.Error("ReadBroadcasts after a recent entry reports a gap")
	}
}

// TestBroadcastClose: Close stops the broadcaster and the consumer (the
// leak check of TestMain would see them), and a broadcast after Close is
// dropped and counted.
func TestBroadcastClose(t *testing.T) {
	r := testutil.StartRedis(t)
	s := newStore(t, r.URL(), nil)
	start := time.Now()
	_ = s.Close() // the consumer is blocked in XREAD BLOCK: Close cancels it
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with the consumer waiting in XREAD BLOCK", d)
	}
	s.Broadcast([]byte("late"))
	if h := s.Health(); h.BroadcastsDropped != 1 {
		t.Errorf("BroadcastsDropped after a broadcast past Close = %d, want 1", h.BroadcastsDropped)
	}
	if err := testutil.NoLeaks(5*time.Second, "redisstore.(*Store).consume", "redisstore.(*Store).broadcaster"); err != nil {
		t.Error(err)
	}
}

// TestBroadcastRedisRestart: with Redis down, a node's broadcast reaches
// its own clients only (zero ID, counted); once Redis is back (empty),
// the consumers go on, and both nodes deliver the new broadcasts.
func TestBroadcastRedisRestart(t *testing.T) {
	r := testutil.StartRedis(t)
	opts := &Options{Timeout: 300 * time.Millisecond, PingInterval: 50 * time.Millisecond}
	a, b := newStore(t, r.URL(), opts), newStore(t, r.URL(), opts)
	var ra, rb bcastRec
	a.OnBroadcast(ra.on)
	b.OnBroadcast(rb.on)
	a.Broadcast([]byte("before"))
	ra.waitCount(t, 1)
	rb.waitCount(t, 1)

	r.Kill()
	a.Broadcast([]byte("down"))
	ids, ps := ra.waitCount(t, 2)
	if !ids[1].IsZero() || ps[1] != "down" {
		t.Fatalf("a's broadcast with Redis down delivered as %v %q, want here only (zero ID)", ids[1], ps[1])
	}
	if h := a.Health(); h.BroadcastsLocal != 1 {
		t.Errorf("BroadcastsLocal = %d, want 1", h.BroadcastsLocal)
	}

	r.Restart()
	testutil.WaitFor(t, 10*time.Second, func() error { // the consumers read the new log
		b.Broadcast([]byte("after"))
		_, pa := ra.get()
		_, pb := rb.get()
		if !slices.Contains(pa, "after") || !slices.Contains(pb, "after") {
			return fmt.Errorf("a delivered %q, b %q; want \"after\" on both", pa, pb)
		}
		return nil
	})
	if _, pb := rb.get(); slices.Contains(pb, "down") {
		t.Error("b delivered a's broadcast that Redis never took")
	}
}

// TestBroadcastRedisHung: an XADD that times out (Redis hung: SIGSTOP)
// is not delivered here at once (counted as dropped): if Redis reads it
// when it wakes, every node delivers it from the log, once; it is never
// delivered twice.
func TestBroadcastRedisHung(t *testing.T) {
	r := testutil.StartRedis(t)
	opts := &Options{Timeout: 200 * time.Millisecond, PingInterval: 50 * time.Millisecond}
	a := newStore(t, r.URL(), opts)
	var ra bcastRec
	a.OnBroadcast(ra.on)
	r.Pause()
	a.Broadcast([]byte("hung"))
	testutil.WaitFor(t, 5*time.Second, func() error {
		if h := a.Health(); h.BroadcastsDropped != 1 {
			return fmt.Errorf("BroadcastsDropped = %d, want 1 (the XADD timed out)", h.BroadcastsDropped)
		}
		return nil
	})
	if _, ps := ra.get(); len(ps) != 0 {
		t.Fatalf("delivered %q while Redis hung, want nothing", ps)
	}
	r.Resume()
	testutil.WaitFor(t, 10*time.Second, func() error {
		a.Broadcast([]byte("after"))
		if _, ps := ra.get(); !slices.Contains(ps, "after") {
			return fmt.Errorf("delivered %q, not yet \"after\"", ps)
		}
		return nil
	})
	ids, ps := ra.get()
	n := 0
	for i, p := range ps {
		if p == "hung" {
			n++
			if ids[i].IsZero() {
				t.Error("the timed-out broadcast was delivered here only (zero ID), not from the log")
			}
		}
	}
	if n > 1 {
		t.Errorf("the timed-out broadcast was delivered %d times", n)
	}
	t.Logf("the timed-out broadcast reached the log: %v", n == 1)
	if h := a.Health(); h.BroadcastsLocal != 0 {
		t.Errorf("BroadcastsLocal = %d, want 0", h.BroadcastsLocal)
	}
}
