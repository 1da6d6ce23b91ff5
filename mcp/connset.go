package mcp

import (
	"context"
	"sync"
)

// A ConnSet is a [Backend]'s live [Conn] values and the goroutines that
// work for them, for the Backend's Close: [ConnSet.Close] refuses new
// conns, closes the live ones and waits for the goroutines, bounded by a
// context. The stdio bridge and the Go SDK host use one. The zero value
// is an empty set, ready to use. It is safe for concurrent use and must
// not be copied after first use.
type ConnSet struct {
	_ noCopy

	mu      sync.Mutex        // guards live and closing
	live    map[Conn]struct{} // added and not yet removed
	closing bool              // Close was called: Add refuses

	wg sync.WaitGroup // goroutines started by Go
}

// Add adds c to the set and reports whether it did: false once Close was
// called (the Backend should then refuse the session with
// [ErrUnavailable], or close c).
func (s *ConnSet) Add(c Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	if s.live == nil {
		s.live = make(map[Conn]struct{})
	}
	s.live[c] = struct{}{}
	return true
}

// Remove removes c from the set, once it is closed or gone.
func (s *ConnSet) Remove(c Conn) {
	s.mu.Lock()
	delete(s.live, c)
	s.mu.Unlock()
}

// Closing reports whether Close was called.
func (s *ConnSet) Closing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Go runs f on a goroutine that Close waits for. Owner: the set; exit:
// when f returns.
func (s *ConnSet) Go(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Close refuses new conns ([ConnSet.Add] reports false from now on),
// closes every live one ([Conn.Close]) and waits until every goroutine
// started by Go has returned, or ctx ends: then it returns ctx.Err(). It
// may be called more than once.
func (s *ConnSet) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	live := make([]Conn, 0, len(s.live))
	for c := range s.live {
		live = append(live, c)
	}
	s.mu.Unlock()
	for _, c := range live {
		_ = c.Close() // Conn.Close returns nil
	}
	done := make(chan struct{})
	go func() { // owner: Close; exit: when every goroutine started by Go has returned
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// noCopy makes go vet's copylocks check report copies of the types that
// embed it.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
