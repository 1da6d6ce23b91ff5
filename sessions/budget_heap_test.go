package sessions

import (
	"testing"
	"time"
)

// TestEventLogHeapBounded is issue #14's oversized resumable log: clients
// that make the server answer with big messages and never resume. Each of
// 4 sessions gets 64 POST streams of 4 events of 1 MiB (the last of each
// its "response", the stream then finished, half of them read to the end)
// and 4 MiB on the GET stream: 1 GiB appended in all, which the count
// bounds alone (1024 events, 64 streams) would keep. With the byte budgets
// (1 MiB per stream, 8 MiB per session) the live heap must stay within
// 4 × 8 MiB plus one event per session that alone may exceed the budget,
// plus slack.
func TestEventLogHeapBounded(t *testing.T) {
	const (
		nSessions = 4
		nStreams  = 64
		perStream = 4
		size      = 1 << 20
		slack     = 8 << 20
	)
	start := time.Now()
	base := liveHeap()
	m := newTestMap(t, Options{IdleTimeout: -1})
	var all []*Session
	for range nSessions {
		s := mustCreate(t, m)
		all = append(all, s)
		get := s.Standalone()
		for i := range nStreams {
			st := s.NewStream()
			var r *Reader
			if i%2 == 0 {
				r = st.Attach(0)
			}
			for range perStream {
				st.Append(make([]byte, size))
				get.Append(make([]byte, size/nStreams))
			}
			st.Finish()
			if r != nil {
				r.Next(nil)
				r.Close()
			}
		}
	}
	for _, s := range all {
		if n := checkBytes(t, s); n > DefaultMaxSessionEventBytes+size {
			t.Errorf("session %s keeps %d bytes of events, budget %d", s.ID(), n, DefaultMaxSessionEventBytes)
		}
	}
	heap := liveHeap()
	limit := base + nSessions*(DefaultMaxSessionEventBytes+size) + slack
	t.Logf("heap: baseline %d KiB, after %d MiB appended %d KiB (limit %d KiB), in %v",
		base>>10, nSessions*nStreams*perStream*size>>20+nSessions*perStream*size>>20, heap>>10, limit>>10, time.Since(start))
	if heap > limit {
		t.Errorf("live heap %d KiB over the limit %d KiB", heap>>10, limit>>10)
	}
	for _, s := range all {
		s.End(EndDelete)
	}
	if heap := liveHeap(); heap > base+slack {
		t.Errorf("live heap %d KiB after End, baseline %d KiB", heap>>10, base>>10)
	}
}
