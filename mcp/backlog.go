package mcp

import "sync"

// A Backlog carries the unsolicited messages a [Backend]'s upstream (a
// child process, an SDK session) sends for a session's GET stream
// ([SessionState.Send]). The upstream may speak before the session can
// take messages (during initialize, before the transport has the session),
// so the Backlog holds them, in order, and sends them once it can. Past
// its bound the oldest are dropped. It is safe for concurrent use; it
// never calls back into its owner, so the owner may hold its own lock
// while calling it.
type Backlog struct {
	max    int
	onDrop func() // told when the oldest held message is dropped

	mu    sync.Mutex // guards the fields below
	st    *SessionState
	msgs  [][]byte // held, oldest first
	ready bool     // the session took what was held: send directly
}

// NewBacklog returns a Backlog that holds at most n messages (at least 1);
// onDrop, if not nil, is called each time the oldest is dropped.
func NewBacklog(n int, onDrop func()) *Backlog {
	return &Backlog{max: max(n, 1), onDrop: onDrop}
}

// Bind gives the Backlog its session. Messages are sent from the first
// Send or Flush at which the session takes them.
func (b *Backlog) Bind(st *SessionState) {
	b.mu.Lock()
	b.st = st
	b.mu.Unlock()
}

// Send sends msg on the session's GET stream, or holds it until the
// session can take it. It never blocks.
func (b *Backlog) Send(msg []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ready {
		_ = b.st.Send(msg) // fails only once the session has ended
		return
	}
	if len(b.msgs) >= b.max {
		b.msgs[0] = nil
		b.msgs = b.msgs[1:]
		if b.onDrop != nil {
			b.onDrop()
		}
	}
	b.msgs = append(b.msgs, msg)
	b.flushLocked()
}

// Flush sends what is held, if the session can take it now. Owners call it
// before they forward a client's message, so that messages sent early keep
// their place in the order.
func (b *Backlog) Flush() {
	b.mu.Lock()
	b.flushLocked()
	b.mu.Unlock()
}

func (b *Backlog) flushLocked() {
	if b.ready || b.st == nil || !b.st.hasOutbound() {
		return // not yet: the transport has not set the session's outbound
	}
	for _, m := range b.msgs {
		_ = b.st.Send(m) // fails only once the session has ended
	}
	b.msgs = nil
	b.ready = true
}
