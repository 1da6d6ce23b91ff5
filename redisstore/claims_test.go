package redisstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// testClaims runs the GET stream claims of issue #11 on two nodes a and b of
// one Redis (a single server or a cluster): a node that closed looks gone
// at once, and its claim is stolen; a claim stolen from a live node (a
// false "gone") is not renewed by it, and its OnLostGET hears of it; a
// claim that expired under its holder is set again by its renewal.
func testClaims(t *testing.T, a, b *Store, closeA func()) {
	ctx := context.Background()
	lost := make(chan string, 4)
	a.OnLostGET(func(id string) { lost <- id })
	holder := func(id string) uint32 {
		t.Helper()
		n, err := b.GETHolder(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// A live node is not gone; a number no node took is.
	if gone, err := b.NodeGone(ctx, a.Node()); err != nil || gone {
		t.Fatalf("NodeGone(%d) of a live node = %v, %v; want false", a.Node(), gone, err)
	}
	if gone, err := b.NodeGone(ctx, 1<<31); err != nil || !gone {
		t.Fatalf("NodeGone(1<<31), a number no node took = %v, %v; want true", gone, err)
	}

	// A false "gone": b steals a's claim while a lives. a's renewal
	// leaves it to b, and reports it lost.
	stolen := a.NewID()
	if ok, err := a.ClaimGET(ctx, stolen); !ok || err != nil {
		t.Fatalf("ClaimGET = %v, %v", ok, err)
	}
	if ok, err := b.StealGET(ctx, stolen, a.Node()+1000); ok || err != nil {
		t.Fatalf("StealGET from a node that does not hold the claim = %v, %v; want false", ok, err)
	}
	if ok, err := b.StealGET(ctx, stolen, a.Node()); !ok || err != nil {
		t.Fatalf("StealGET = %v, %v; want true", ok, err)
	}
	select {
	case id := <-lost:
		if id != stolen {
			t.Fatalf("OnLostGET(%s), want %s", id, stolen)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnLostGET not called within 5 s (pings every 50 ms)")
	}
	if n := holder(stolen); n != b.Node() {
		t.Fatalf("holder after a's renewal = %d, want b (%d)", n, b.Node())
	}
	if ok, _ := a.ClaimGET(ctx, stolen); ok {
		t.Fatal("a claimed again a stream b holds")
	}

	// A claim that expired under a live holder is set again.
	kept := a.NewID()
	if ok, err := a.ClaimGET(ctx, kept); !ok || err != nil {
		t.Fatalf("ClaimGET = %v, %v", ok, err)
	}
	if err := a.c.Do(ctx, a.c.B().Del().Key(a.claimKey(kept)).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if n := holder(kept); n != a.Node() {
			return fmt.Errorf("holder = %d, want a (%d)", n, a.Node())
		}
		return nil
	})

	// a goes: its claims stay, but it is gone at once, and b steals.
	closeA()
	if n := holder(kept); n != a.Node() { // three pings of a: 3 s
		t.Fatalf("holder just after a closed = %d, want a's claim still there (%d)", n, a.Node())
	}
	testutil.WaitFor(t, time.Second, func() error { // as soon as Redis has seen a's connection close
		if gone, err := b.NodeGone(ctx, a.Node()); err != nil || !gone {
			return fmt.Errorf("NodeGone(%d) after it closed = %v, %v; want true", a.Node(), gone, err)
		}
		return nil
	})
	if ok, err := b.StealGET(ctx, kept, a.Node()); !ok || err != nil {
		t.Fatalf("StealGET from a gone node = %v, %v", ok, err)
	}
	if n := holder(kept); n != b.Node() {
		t.Fatalf("holder after the steal = %d, want b (%d)", n, b.Node())
	}
	ttl, err := b.c.Do(ctx, b.c.B().Pttl().Key(b.claimKey(kept)).Build()).AsInt64()
	if err != nil || ttl <= 0 {
		t.Fatalf("PTTL of the stolen claim = %d, %v; want a TTL", ttl, err)
	}
}

// TestClaims runs testClaims on a single Redis server; a's pings are 50 ms
// apart so that its renewals come quickly.
func TestClaims(t *testing.T) {
	r := testutil.StartRedis(t)
	a := newStore(t, r.URL(), &Options{PingInterval: 50 * time.Millisecond})
	b := newStore(t, r.URL(), nil)
	testClaims(t, a, b, func() { _ = a.Close() })
}

// TestClaimsResubscribe: New returns once the node listens on its node
// channel (before that, it would look gone); when Redis drops the
// subscriber's connection (CLIENT KILL TYPE pubsub), the node subscribes
// again and no longer looks gone.
func TestClaimsResubscribe(t *testing.T) {
	r := testutil.StartRedis(t)
	a := newStore(t, r.URL(), nil)
	b := newStore(t, r.URL(), nil)
	ctx := context.Background()
	ch := a.nodeChannel(a.Node())
	if got, err := r.Do("PUBSUB", "NUMSUB", ch); err != nil || got != ch+"\n1" {
		t.Fatalf("PUBSUB NUMSUB %s just after New = %q, %v; want 1 subscriber", ch, got, err)
	}
	// Every connection of a and b: both see the connection drop, and
	// subscribe again at once (their subscription lasted long enough).
	if _, err := r.Do("CLIENT", "KILL", "TYPE", "pubsub"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if gone, err := b.NodeGone(ctx, a.Node()); err != nil || gone {
			return fmt.Errorf("NodeGone(%d) = %v, %v; want a back", a.Node(), gone, err)
		}
		return nil
	})
}
