package redisstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// TestEventsRetryAfterBlip: events and a stream's end queued while Redis
// is down (restarting: it keeps an append-only file, as in production)
// reach Redis once it is back. They used to be dropped with the failed batch: a node
// following the stream on another node then waited for an end that
// never came, as long as the writer lived (its client's resumed stream
// hung, without the response).
func TestEventsRetryAfterBlip(t *testing.T) {
	r := testutil.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	const timeout = 200 * time.Millisecond
	s := newStore(t, r.URL(), &Options{Timeout: timeout, PingInterval: 50 * time.Millisecond})
	id := s.NewID()
	for seq := uint64(1); seq <= 5; seq++ {
		s.AppendEvent(id, 1, seq, eventData(1, seq), sessions.Cursor{}, time.Minute, 100)
	}
	waitEventCount(t, s, id, 1, 5)
	r.Kill()
	for seq := uint64(6); seq <= 10; seq++ {
		s.AppendEvent(id, 1, seq, eventData(1, seq), sessions.Cursor{}, time.Minute, 100)
	}
	s.FinishStream(id, 1, 10, time.Minute)
	testutil.WaitFor(t, 5*time.Second, func() error { // the batch failed
		if h := s.Health(); h.EventsRetried == 0 && h.EventsDropped == 0 {
			return fmt.Errorf("health %+v", h)
		}
		return nil
	})
	r.Restart()
	testutil.WaitFor(t, 5*time.Second, func() error {
		evs, finished, err := s.ReadEvents(context.Background(), id, 1, 0, 0) // 11 entries: one page
		if err != nil {
			return err // the first commands after the restart may meet a closed connection
		}
		if len(evs) != 10 || !finished {
			return errors.New("the events and the end queued during the blip are not in Redis")
		}
		checkSeq(t, evs, 1, 1)
		return nil
	})
	if h := s.Health(); h.EventsDropped != 0 || h.EventsRetried == 0 {
		t.Errorf("EventsDropped %d, EventsRetried %d; want 0 and some", h.EventsDropped, h.EventsRetried)
	}
}
