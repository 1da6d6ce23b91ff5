package sessions

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// A sessionStore is one way to keep live sessions. impl=xsync is the
// shipped [Map]; impl=syncmap and impl=rwmutex are baselines doing the same
// work (ID check, NewID, a Session, a live count, ending it) with a
// sync.Map and with a sync.RWMutex-guarded Go map.
type sessionStore interface {
	lookup(id string) *Session
	create() *Session
	end(s *Session)
	close()
}

type xsyncStore struct{ m *Map }

func (x xsyncStore) lookup(id string) *Session { return x.m.Lookup(id) }
func (x xsyncStore) create() *Session {
	s, err := x.m.Create("2025-11-25", nil)
	if err != nil {
		return nil
	}
	return s
}
func (x xsyncStore) end(s *Session) { s.End(EndDelete) }
func (x xsyncStore) close()         { x.m.Close() }

// baseline holds what the baselines share: a Map for the sessions'
// options, and the live count.
type baseline struct {
	owner *Map
	live  atomic.Int64
}

func (b *baseline) newSession() *Session {
	b.live.Add(1)
	return newSession(b.owner, NewID(), "2025-11-25", nil)
}

// ended does what Session.End does besides leaving the map.
func (b *baseline) ended(s *Session) bool {
	if !s.reason.CompareAndSwap(0, uint32(EndDelete)) {
		return false
	}
	b.live.Add(-1)
	close(s.done)
	s.mu.Lock()
	s.streams = nil
	s.mu.Unlock()
	return true
}

type syncMapStore struct {
	baseline
	m sync.Map
}

func (x *syncMapStore) lookup(id string) *Session {
	if !ValidID(id) {
		return nil
	}
	if v, ok := x.m.Load(id); ok {
		return v.(*Session)
	}
	return nil
}
func (x *syncMapStore) create() *Session {
	s := x.newSession()
	for _, taken := x.m.LoadOrStore(s.id, s); taken; _, taken = x.m.LoadOrStore(s.id, s) {
		s.id = NewID()
	}
	return s
}
func (x *syncMapStore) end(s *Session) {
	if x.ended(s) {
		x.m.Delete(s.id)
	}
}
func (x *syncMapStore) close() { x.owner.Close() }

type rwMutexStore struct {
	baseline
	mu sync.RWMutex
	m  map[string]*Session
}

func (x *rwMutexStore) lookup(id string) *Session {
	if !ValidID(id) {
		return nil
	}
	x.mu.RLock()
	s := x.m[id]
	x.mu.RUnlock()
	return s
}
func (x *rwMutexStore) create() *Session {
	s := x.newSession()
	x.mu.Lock()
	for x.m[s.id] != nil {
		s.id = NewID()
	}
	x.m[s.id] = s
	x.mu.Unlock()
	return s
}
func (x *rwMutexStore) end(s *Session) {
	if x.ended(s) {
		x.mu.Lock()
		delete(x.m, s.id)
		x.mu.Unlock()
	}
}
func (x *rwMutexStore) close() { x.owner.Close() }

var storeImpls = []struct {
	name string
	new  func() sessionStore
}{
	{"xsync", func() sessionStore { return xsyncStore{New(&Options{IdleTimeout: -1, MaxSessions: -1})} }},
	{"syncmap", func() sessionStore {
		return &syncMapStore{baseline: baseline{owner: New(&Options{IdleTimeout: -1})}}
	}},
	{"rwmutex", func() sessionStore {
		return &rwMutexStore{baseline: baseline{owner: New(&Options{IdleTimeout: -1})}, m: make(map[string]*Session)}
	}},
}

// The workload mixes: the share of operations that look up a live
// session; the others create a session or end one the same goroutine
// created, alternately, so the population stays near prefill.
var benchmarkCases = []struct {
	name  string
	reads int // percent
}{
	{"reads=100%", 100},
	{"reads=99%", 99},
	{"reads=90%", 90},
	{"churn=50%", 50},
}

// benchPrefill is the number of live sessions while a mix runs.
const benchPrefill = 10_000

// BenchmarkSessionMap runs each workload mix in parallel against the
// shipped map and the two baselines, and reports throughput.
//
//	go test ./sessions -run='^$' -bench=BenchmarkSessionMap -benchmem -count=10 | benchstat -col /impl -
func BenchmarkSessionMap(b *testing.B) {
	for _, impl := range storeImpls {
		for _, bc := range benchmarkCases {
			b.Run("impl="+impl.name+"/"+bc.name, func(b *testing.B) {
				benchmarkSessionMap(b, impl.new(), bc.reads)
			})
		}
	}
}

func benchmarkSessionMap(b *testing.B, st sessionStore, readPct int) {
	defer st.close()
	ids := make([]string, benchPrefill)
	for i := range ids {
		s := st.create()
		if s == nil {
			b.Fatal("prefill: create failed")
		}
		ids[i] = s.ID()
	}
	var misses, failed atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []*Session
		create := true
		for pb.Next() {
			if rand.IntN(100) < readPct {
				if st.lookup(ids[rand.IntN(len(ids))]) == nil {
					misses.Add(1)
				}
				continue
			}
			if create || len(mine) == 0 {
				s := st.create()
				if s == nil {
					failed.Add(1)
					continue
				}
				mine = append(mine, s)
			} else {
				st.end(mine[len(mine)-1])
				mine = mine[:len(mine)-1]
			}
			create = !create
		}
		for _, s := range mine {
			st.end(s)
		}
	})
	b.StopTimer()
	if sec := b.Elapsed().Seconds(); sec > 0 {
		b.ReportMetric(float64(b.N)/sec, "ops/s")
	}
	if n := misses.Load(); n != 0 {
		b.Fatalf("%d lookups of live sessions missed", n)
	}
	if n := failed.Load(); n != 0 {
		b.Fatalf("%d creates failed", n)
	}
	for _, id := range ids {
		if st.lookup(id) == nil {
			b.Fatalf("prefilled session %s lost", id)
		}
	}
}

// BenchmarkCreateEnd is a storm of sessions created and ended at once from
// every P, through the shipped [Map] with an OnEnd hook, as the transport
// uses it (initialize, then DELETE). streams= adds a POST stream with one
// event per session.
//
//	go test ./sessions -run='^$' -bench=BenchmarkCreateEnd -benchmem -count=10
func BenchmarkCreateEnd(b *testing.B) {
	for _, streams := range []int{0, 1} {
		b.Run("streams="+strconv.Itoa(streams), func(b *testing.B) {
			var ended atomic.Int64
			m := New(&Options{IdleTimeout: -1, MaxSessions: -1, OnEnd: func(*Session, EndReason) { ended.Add(1) }})
			defer m.Close()
			data := []byte(`{"jsonrpc":"2.0","id":1,"result":{}}`)
			var failed atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					s, err := m.Create("2025-11-25", nil)
					if err != nil {
						failed.Add(1)
						continue
					}
					if streams > 0 {
						st := s.NewStream()
						st.Append(data)
						st.Finish()
					}
					s.End(EndDelete)
				}
			})
			b.StopTimer()
			if sec := b.Elapsed().Seconds(); sec > 0 {
				b.ReportMetric(float64(b.N)/sec, "ops/s")
			}
			if n := failed.Load(); n != 0 {
				b.Fatalf("%d creates failed", n)
			}
			if got := ended.Load(); got != int64(b.N) || m.Len() != 0 {
				b.Fatalf("ended %d of %d sessions; %d left", got, b.N, m.Len())
			}
		})
	}
}
