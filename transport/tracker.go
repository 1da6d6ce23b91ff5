package transport

import "sync"

// A tracker counts work in flight (calls, SSE writers) for Shutdown. Unlike
// a sync.WaitGroup, Add may go up from zero while Idle is being waited on:
// work that starts after the count reached zero is simply not waited for
// (it ends at the latest when the grace period does).
type tracker struct {
	mu   sync.Mutex    // guards the fields below
	n    int           // work in flight
	idle chan struct{} // closed when n reaches zero after Idle was called
}

// Add adds delta (positive) to the work in flight.
func (t *tracker) Add(delta int) {
	t.mu.Lock()
	t.n += delta
	t.mu.Unlock()
}

// Done marks one piece of work finished.
func (t *tracker) Done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 && t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
	t.mu.Unlock()
}

// Idle returns a channel closed once no work is in flight.
func (t *tracker) Idle() <-chan struct{} {
	ch := make(chan struct{})
	t.mu.Lock()
	if t.n == 0 {
		close(ch)
	} else {
		t.idle = ch
	}
	t.mu.Unlock()
	return ch
}
