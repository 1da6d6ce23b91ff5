package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// TestCluster runs the round trips, two nodes with Watch, and the cap
// against a Redis Cluster of three masters.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("a cluster takes seconds to form")
	}
	c := testutil.StartRedisCluster(t, 3)
	a := newStore(t, c.URL(), nil)
	b := newStore(t, c.URLs()[1], nil) // one node's address is enough
	t.Run("round trip", func(t *testing.T) { roundTrip(t, a) })
	t.Run("two nodes", func(t *testing.T) {
		twoNodes(t, a, b, func() {
			// Sharded pub/sub: count the subscribers on every master.
			testutil.WaitFor(t, 5*time.Second, func() error {
				total := 0
				for _, node := range c.Nodes {
					got, err := node.Do("PUBSUB", "SHARDNUMSUB", a.events)
					if err != nil {
						return err
					}
					n, _ := strconv.Atoi(got[strings.LastIndexByte(got, '\n')+1:])
					total += n
				}
				if total != 2 {
					return fmt.Errorf("%d subscribers, want 2", total)
				}
				return nil
			})
		})
	})
	t.Run("cap", func(t *testing.T) {
		ctx := context.Background()
		for range 2 {
			if err := a.Create(ctx, typicalRecord(a.NewID()), time.Minute, 2); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Create(ctx, typicalRecord(b.NewID()), time.Minute, 2); err == nil {
			t.Fatal("Create beyond the cap succeeded")
		}
	})
	t.Run("broadcast log", func(t *testing.T) { testBroadcastLog(t, a, b) })
	t.Run("claims", func(t *testing.T) { // SHARDNUMSUB of the node channel
		x := newStore(t, c.URL(), &Options{PingInterval: 50 * time.Millisecond})
		y := newStore(t, c.URLs()[2], nil)
		testClaims(t, x, y, func() { _ = x.Close() })
	})
	// The record keys spread over the masters: the hash tag is the ID.
	counts := make([]string, len(c.Nodes))
	for i, node := range c.Nodes {
		counts[i], _ = node.Do("DBSIZE")
	}
	t.Logf("keys per master: %v", counts)
}
