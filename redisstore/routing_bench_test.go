package redisstore

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// BenchmarkRouting measures the two ways a message goes from one node to
// another (#11: "pub/sub or streams: choose by measurement"), one message
// of 200 bytes at a time from node a until node b's callback has it:
// via=pubsub is Relay (one PUBLISH on the events channel, what a client's
// response or cancellation for a request running on another node takes),
// via=stream is Broadcast (an XADD to the broadcast log, which every node
// reads with XREAD BLOCK). ns/op is the one-way latency plus the hand-off
// to the callback; redis-µs/msg is Redis's CPU per message.
//
//	go test ./redisstore -run '^$' -bench BenchmarkRouting -benchtime 5000x -count 3
func BenchmarkRouting(b *testing.B) {
	msg := bytes.Repeat([]byte("m"), 200)
	for _, via := range []string{"pubsub", "stream"} {
		b.Run("via="+via, func(b *testing.B) {
			r := testutil.StartRedis(b)
			a, c := newStore(b, r.URL(), nil), newStore(b, r.URL(), nil)
			got := make(chan struct{}, 1)
			id := a.NewID()
			send := func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				if err := a.Relay(ctx, id, msg); err != nil {
					b.Fatal(err)
				}
			}
			if via == "pubsub" {
				c.OnRelay(func(string, []byte) { got <- struct{}{} })
			} else {
				c.OnBroadcast(func(sessions.Cursor, []byte) { got <- struct{}{} })
				send = func() { a.Broadcast(msg) }
			}
			wait := func() {
				select {
				case <-got:
				case <-time.After(5 * time.Second):
					b.Fatal("the message did not arrive within 5 s")
				}
			}
			send() // warm: subscriptions and readers up
			wait()
			cpu0 := redisCPU(b, r)
			n := 0
			for b.Loop() {
				send()
				wait()
				n++
			}
			b.ReportMetric((redisCPU(b, r)-cpu0)/float64(n)*1e6, "redis-µs/msg")
		})
	}
}
