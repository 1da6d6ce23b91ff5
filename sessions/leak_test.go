package sessions

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpfiber/mcpfiber/internal/testutil"
)

// heapMargin is how far the live heap may sit above its baseline after the
// churn. A leak of the whole session graph (Session, its done channel and
// streams map, a Stream, its event log and events: about 1 KiB each) would
// be about 100 MiB for 100 000 sessions; even one leaked 48-byte object per
// session would be 4.6 MiB. 4 MiB absorbs what is not a leak: the xsync
// table at its minimum size, runtime and testing caches, and GC timing.
const heapMargin = 4 << 20

// TestChurnNoLeak creates and ends 100 000 sessions (streams, events,
// readers, every end reason) and checks that nothing is left: no sessions,
// no map entries, no goroutines, no heap.
func TestChurnNoLeak(t *testing.T) {
	total := 100_000
	if testing.Short() {
		total = 10_000
	}
	const round = 1000 // sessions per round; up to round are live at once

	baseGoroutines := runtime.NumGoroutine()
	baseHeap := liveHeap()

	var ended [EndClosed + 1]atomic.Int64
	m := New(&Options{
		IdleTimeout:        time.Hour,
		MaxEventsPerStream: 4,
		OnEnd:              func(_ *Session, r EndReason) { ended[r].Add(1) },
	})
	workers := max(2, runtime.GOMAXPROCS(0))
	payload := []byte(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}`)

	var wantIdle int64
	for done := 0; done < total; done += round {
		last := done+round >= total
		var wg sync.WaitGroup
		var leftLive atomic.Int64
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < round; i += workers {
					s, err := m.Create("2025-11-25", nil)
					if err != nil {
						t.Errorf("Create: %v", err)
						return
					}
					if m.Lookup(s.ID()) != s {
						t.Errorf("Lookup of a fresh session failed")
						return
					}
					st := s.NewStream()
					r := st.Attach(0)
					for range 6 { // more than MaxEventsPerStream: trims
						st.Append(append([]byte(nil), payload...))
					}
					st.Finish()
					r.Next(nil)
					get := s.Standalone()
					get.Append(append([]byte(nil), payload...))
					open := s.NewStream() // left open, never read
					open.Append(append([]byte(nil), payload...))
					rg, _ := get.TryAttach()

					switch {
					case last && i%2 == 0: // left for Close
						r.Close()
						rg.Close()
						leftLive.Add(1)
					case i%3 == 0: // DELETE, readers still attached
						s.End(EndDelete)
						r.Close()
						rg.Close()
					case i%3 == 1: // the owner ends it
						r.Close()
						rg.Close()
						s.End(EndClosed)
					default: // left idle for ExpireIdle
						r.Close()
						rg.Close()
						leftLive.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if !last {
			n := m.ExpireIdle(time.Now().Add(2 * time.Hour))
			if int64(n) != leftLive.Load() {
				t.Fatalf("ExpireIdle ended %d sessions, want %d", n, leftLive.Load())
			}
			wantIdle += int64(n)
		} else if int64(m.Len()) != leftLive.Load() {
			t.Fatalf("Len = %d before Close, want %d", m.Len(), leftLive.Load())
		}
	}
	m.Close()

	if m.Len() != 0 {
		t.Errorf("Len = %d after the churn, want 0", m.Len())
	}
	if n := m.m.Size(); n != 0 {
		t.Errorf("the xsync map holds %d entries, want 0", n)
	}
	m.Range(func(s *Session) bool {
		t.Errorf("Range sees session %s after the churn", s.ID())
		return true
	})
	var sum int64
	for r := EndDelete; r <= EndClosed; r++ {
		sum += ended[r].Load()
		t.Logf("ended %-8v %6d", r, ended[r].Load())
	}
	if sum != int64(total) {
		t.Errorf("OnEnd called %d times for %d sessions", sum, total)
	}
	if ended[EndIdle].Load() != wantIdle {
		t.Errorf("ended idle: %d, want %d", ended[EndIdle].Load(), wantIdle)
	}
	for r := EndDelete; r <= EndClosed; r++ {
		if ended[r].Load() == 0 {
			t.Errorf("no session ended with reason %v", r)
		}
	}

	testutil.WaitFor(t, 5*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > baseGoroutines {
			return fmt.Errorf("%d goroutines, %d before the sessions", n, baseGoroutines)
		}
		return nil
	})

	m = nil // what the test itself keeps must not count
	heap := liveHeap()
	t.Logf("heap: baseline %d KiB, after %d sessions %d KiB", baseHeap>>10, total, heap>>10)
	if heap > baseHeap+heapMargin {
		t.Errorf("live heap grew by %d KiB over %d sessions (margin %d KiB): something is retained",
			(heap-baseHeap)>>10, total, heapMargin>>10)
	}
}

// liveHeap returns HeapAlloc after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // the second cycle frees what the first only unlinked (finalizers, sync.Pool victims)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
