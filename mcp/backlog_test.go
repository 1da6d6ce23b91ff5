package mcp

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// collect is an Outbound that records what it is given.
type collect struct {
	mu   sync.Mutex
	msgs []string
}

func (c *collect) Send(msg []byte) error {
	c.mu.Lock()
	c.msgs = append(c.msgs, string(msg))
	c.mu.Unlock()
	return nil
}

func (c *collect) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

func TestBacklog(t *testing.T) {
	drops := 0
	b := NewBacklog(3, func() { drops++ })
	b.Send([]byte("0")) // before any session: held
	st := NewSessionState(Version20251125, nil, ClientCapabilities{})
	b.Bind(st)
	b.Flush() // the session exists but the transport has not set its outbound
	for i := 1; i <= 3; i++ {
		b.Send([]byte(fmt.Sprint(i))) // the fourth held message drops the oldest
	}
	if drops != 1 {
		t.Fatalf("drops = %d, want 1", drops)
	}
	out := &collect{}
	st.SetOutbound(out)
	if got := out.got(); len(got) != 0 {
		t.Fatalf("sent %v before Flush or Send", got)
	}
	b.Flush()
	b.Send([]byte("4"))
	if got, want := out.got(), []string{"1", "2", "3", "4"}; !slices.Equal(got, want) {
		t.Fatalf("sent %v, want %v (held in order, the oldest dropped, then direct)", got, want)
	}
}

// TestBacklogNotReadyEarly checks that an empty Backlog bound to a session
// whose outbound is not set yet holds a later message rather than losing
// it.
func TestBacklogNotReadyEarly(t *testing.T) {
	b := NewBacklog(8, nil)
	st := NewSessionState(Version20251125, nil, ClientCapabilities{})
	b.Bind(st)
	b.Flush() // nothing held, no outbound: must not count as delivered
	b.Send([]byte("early"))
	out := &collect{}
	st.SetOutbound(out)
	b.Flush()
	if got := out.got(); !slices.Equal(got, []string{"early"}) {
		t.Fatalf("sent %v, want [early]", got)
	}
}
