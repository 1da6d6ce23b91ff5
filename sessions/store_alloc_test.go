//go:build !race

// The race detector makes sync.Pool and some runtime paths allocate, so the
// zero-allocation contracts are checked without it.

package sessions_test

import (
	"testing"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// TestResolveAllocs enforces the zero-allocation contract of
// [sessions.Map.Resolve] with a redisstore.Store (a real redis-server): an
// ID of the right shape failing the tag check (forged), one of the wrong
// shape (garbage), an ID Redis said was gone (remembered dead), and a
// fresh session held here, each from memory that is not the map key's,
// as a request header is. None sends a Redis command.
func TestResolveAllocs(t *testing.T) {
	r := testutil.StartRedis(t)
	n := newNode(t, r)
	s := n.create(t)
	held := string([]byte(s.ID()))

	valid := n.store.NewID()
	swap := byte('0')
	if valid[len(valid)-1] == '0' {
		swap = '1'
	}
	forged := valid[:len(valid)-1] + string(swap)
	if n.store.ValidID(forged) {
		t.Fatalf("the forged ID %s passes ValidID", forged)
	}

	dead := n.store.NewID()
	if got := mustResolve(t, n.m, dead); got != nil { // one GET: Redis does not know it
		t.Fatalf("Resolve of an ID never created = %v, want nil", got)
	}
	dead = string([]byte(dead))

	resetStats(t, r)
	cases := []struct {
		name string
		id   string
		want *sessions.Session
	}{
		{"forged", forged, nil},
		{"garbage", "not a session id", nil},
		{"remembered dead", dead, nil},
		{"fresh held", held, s},
	}
	for _, c := range cases {
		var got *sessions.Session
		var err error
		allocs := testing.AllocsPerRun(1000, func() { got, err = n.m.Resolve(c.id) })
		if got != c.want || err != nil {
			t.Errorf("%s: Resolve = %v, %v; want %v, nil", c.name, got, err, c.want)
		}
		if allocs != 0 {
			t.Errorf("%s: Resolve allocates %v times per call, want 0", c.name, allocs)
		}
	}
	if g := gets(t, r); g != 0 {
		t.Errorf("the Resolves sent %d GETs to Redis, want none", g)
	}
}
