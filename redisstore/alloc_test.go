//go:build !race

package redisstore

import (
	"testing"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// TestValidIDAllocs checks the claim that ValidID allocates nothing, for
// a valid ID and for forged ones, as the Store's method (the 404 path).
func TestValidIDAllocs(t *testing.T) {
	r := testutil.StartRedis(t)
	s := newStore(t, r.URL(), nil)
	id := s.NewID()
	forged := id[:IDLen-1] + string("10"[min(int(id[IDLen-1]-'0'), 1)])
	for name, in := range map[string]string{"valid": id, "forged": forged, "garbage": "not an id"} {
		want := in == id
		n := testing.AllocsPerRun(1000, func() {
			if s.ValidID(in) != want {
				t.Fatalf("%s: ValidID(%q) != %v", name, in, want)
			}
		})
		if n != 0 {
			t.Errorf("%s: ValidID allocates %v times per call, want 0", name, n)
		}
	}
}
