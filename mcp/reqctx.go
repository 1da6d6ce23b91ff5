package mcp

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// A requestContext is the context of a session's request: what
// context.WithCancel(context.Background()) returns, kept inside the
// request's [inflight] record so that it costs no allocation of its own
// (WithCancel allocates the context and its cancel function). It is done
// when cancel runs: notifications/cancelled, the end of the session
// ([SessionState.Close]) or the end of the request.
//
// Its parent never ends and carries no values, so Value is always nil,
// Deadline is never set, and context.Cause returns Err (context.Canceled
// once cancelled), as for WithCancel(Background). It implements the
// AfterFunc method that package context looks for, so that a context
// derived from it (WithTimeout, WithCancel) or context.AfterFunc
// registers a callback here instead of starting a goroutine that waits on
// Done; such a context is cancelled from the goroutine cancel starts for
// its callback, so a moment after this one rather than within cancel.
// The done channel is made only when Done is called.
//
// The zero value is a live context. It must not be copied after first
// use.
type requestContext struct {
	done      atomic.Value // of chan struct{}; made by Done (closedChan once cancelled)
	cancelled atomic.Bool  // set before done is closed

	mu     sync.Mutex            // guards afters, and serializes cancel with Done and AfterFunc
	afters map[*afterFunc]func() // registered by AfterFunc, not yet run or stopped
}

// closedChan is what Done returns for a requestContext cancelled before
// Done was first called.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Deadline reports no deadline.
func (c *requestContext) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done returns a channel closed by cancel; it makes it on the first call.
func (c *requestContext) Done() <-chan struct{} {
	if d := c.done.Load(); d != nil {
		return d.(chan struct{})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.done.Load(); d != nil {
		return d.(chan struct{})
	}
	d := closedChan
	if !c.cancelled.Load() {
		d = make(chan struct{})
	}
	c.done.Store(d)
	return d
}

// Err returns nil until cancel, then context.Canceled.
func (c *requestContext) Err() error {
	if c.cancelled.Load() {
		return context.Canceled
	}
	return nil
}

// Value returns nil: the parent (context.Background) carries no values.
func (c *requestContext) Value(any) any { return nil }

func (c *requestContext) String() string { return "mcp.requestContext" }

// cancel cancels the context: Err returns context.Canceled, Done is
// closed and the functions registered by AfterFunc start, each in its own
// goroutine. Only the first call has an effect.
func (c *requestContext) cancel() {
	c.mu.Lock()
	if c.cancelled.Load() {
		c.mu.Unlock()
		return
	}
	c.cancelled.Store(true)
	if d, _ := c.done.Load().(chan struct{}); d != nil {
		close(d)
	}
	afters := c.afters
	c.afters = nil
	c.mu.Unlock()
	for a, f := range afters {
		a.start(f)
	}
}

// An afterFunc is one function registered by [requestContext.AfterFunc].
type afterFunc struct{ once sync.Once }

// start runs f in its own goroutine, unless a stop came first.
func (a *afterFunc) start(f func()) {
	a.once.Do(func() { go f() }) // owner: the caller of AfterFunc; exit: when f returns
}

// AfterFunc arranges for f to run in its own goroutine once c is
// cancelled (at once if it is), as context.AfterFunc does; package
// context calls it for the contexts derived from c and for
// context.AfterFunc(c, f). Calling stop returns true if it kept f from
// starting, false if f has started or was stopped already.
func (c *requestContext) AfterFunc(f func()) (stop func() bool) {
	a := new(afterFunc)
	c.mu.Lock()
	if c.cancelled.Load() {
		c.mu.Unlock()
		a.start(f)
	} else {
		if c.afters == nil {
			c.afters = make(map[*afterFunc]func(), 1)
		}
		c.afters[a] = f
		c.mu.Unlock()
	}
	return func() bool {
		stopped := false
		a.once.Do(func() { stopped = true })
		if stopped {
			c.mu.Lock()
			delete(c.afters, a)
			c.mu.Unlock()
		}
		return stopped
	}
}

var _ context.Context = (*requestContext)(nil)
