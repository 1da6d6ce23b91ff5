package mcp

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestRequestContext holds requestContext to what
// context.WithCancel(context.Background()) does, for a context cancelled
// before and after Done is first called.
func TestRequestContext(t *testing.T) {
	for _, doneFirst := range []bool{false, true} {
		var c requestContext
		var done <-chan struct{}
		if doneFirst {
			done = c.Done()
			if c.Done() != done {
				t.Fatal("Done returned another channel")
			}
			select {
			case <-done:
				t.Fatal("done before cancel")
			default:
			}
		}
		if c.Err() != nil || context.Cause(&c) != nil || c.Value("k") != nil {
			t.Fatalf("live context: Err %v, Cause %v, Value %v", c.Err(), context.Cause(&c), c.Value("k"))
		}
		if _, ok := c.Deadline(); ok {
			t.Fatal("a deadline")
		}
		c.cancel()
		c.cancel() // a no-op
		if done == nil {
			done = c.Done()
		}
		<-done
		if !errors.Is(c.Err(), context.Canceled) || !errors.Is(context.Cause(&c), context.Canceled) {
			t.Fatalf("cancelled: Err %v, Cause %v", c.Err(), context.Cause(&c))
		}
	}
}

// TestRequestContextChildren checks the contexts derived from a
// requestContext, which package context attaches through its AfterFunc
// method: they are cancelled with it, a stopped one is not, and a child
// derived after the cancellation is born cancelled.
func TestRequestContextChildren(t *testing.T) {
	var c requestContext
	child, cancelChild := context.WithTimeout(&c, time.Hour)
	defer cancelChild()
	gone, cancelGone := context.WithCancel(&c)
	cancelGone() // its registration is stopped
	ran := make(chan struct{})
	context.AfterFunc(&c, func() { close(ran) })
	stopped := false
	stop := context.AfterFunc(&c, func() { stopped = true })
	if !stop() || stop() {
		t.Fatal("stop: want true, then false")
	}
	if n := len(c.afters); n != 2 {
		t.Fatalf("%d functions registered, want 2 (the child and the AfterFunc)", n)
	}
	c.cancel()
	<-child.Done()
	<-ran
	<-gone.Done()
	if !errors.Is(child.Err(), context.Canceled) || stopped {
		t.Fatalf("child Err %v; stopped function ran: %v", child.Err(), stopped)
	}
	late, cancelLate := context.WithCancel(&c)
	defer cancelLate()
	<-late.Done()
	lateRan := make(chan struct{})
	if stop := context.AfterFunc(&c, func() { close(lateRan) }); stop() {
		t.Fatal("stop after the cancellation: want false")
	}
	<-lateRan
}

// TestRequestContextConcurrent races Done, Err, AfterFunc and cancel
// (run it with -race).
func TestRequestContextConcurrent(t *testing.T) {
	for range 100 {
		var c requestContext
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				stop := context.AfterFunc(&c, func() {})
				<-c.Done()
				_ = c.Err()
				stop()
			})
		}
		wg.Go(c.cancel)
		wg.Go(c.cancel)
		wg.Wait()
		if c.Err() == nil {
			t.Fatal("not cancelled")
		}
	}
}

// TestInflightCancel checks a request's context through its session: a
// notifications/cancelled for its ID and Close cancel it; a second
// request of an ID in flight is a child of the session's context.
func TestInflightCancel(t *testing.T) {
	st := NewSessionState(Version20251125, nil, ClientCapabilities{})
	var r1, r2, r3 inflight
	ctx1 := st.beginIn([]byte("1"), &r1)
	ctx2 := st.beginIn([]byte("2"), &r2)
	dup := st.beginIn([]byte("2"), &r3)
	if ctx1 != &r1.ctx || r3.cancel == nil || r3.registered {
		t.Fatal("want the record's own context, and a child for the duplicate ID, unregistered")
	}
	if !st.cancelRequest([]byte("1")) || ctx1.Err() == nil || ctx2.Err() != nil {
		t.Fatal("cancelling ID 1 must cancel its context only")
	}
	r1.end()
	if st.cancelRequest([]byte("1")) {
		t.Fatal("an ended request is still registered")
	}
	st.Close()
	<-ctx2.Done()
	<-dup.Done()
	r2.end()
	r3.end()
	var r4 inflight
	if ctx := st.beginIn([]byte("4"), &r4); ctx.Err() == nil {
		t.Fatal("a request begun after Close is live")
	}
	r4.end()
}

// TestCallHandledTwice: a tools/call keeps what it runs with in its Call
// (Call.run); a Call handled a second time must not reuse it, since the
// first handler may have kept its request.
func TestCallHandledTwice(t *testing.T) {
	s := NewServer(Implementation{Name: "s", Version: "1"}, nil)
	var kept []*CallToolRequest
	s.AddTool(&Tool{Name: "keep", InputSchema: []byte(`{"type":"object"}`)}, func(ctx context.Context, req *CallToolRequest) (*CallToolResult, error) {
		kept = append(kept, req)
		return TextResult(string(req.Params.Arguments)), nil
	})
	_, conn, jerr := s.Initialize([]byte(`{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}`))
	if jerr != nil {
		t.Fatal(jerr)
	}
	defer conn.Close()
	c := &Call{Session: conn.State(), Method: MethodToolsCall, ID: []byte("1"), Params: []byte(`{"name":"keep","arguments":{"n":1}}`)}
	if _, jerr := conn.Handle(c); jerr != nil {
		t.Fatal(jerr)
	}
	c.ID, c.Params = []byte("2"), []byte(`{"name":"keep","arguments":{"n":2}}`)
	if _, jerr := conn.Handle(c); jerr != nil {
		t.Fatal(jerr)
	}
	if len(kept) != 2 || kept[0] == kept[1] || string(kept[0].Params.Arguments) != `{"n":1}` || string(kept[1].Params.Arguments) != `{"n":2}` {
		t.Fatalf("the requests kept: %d, the first %+v", len(kept), kept[0].Params)
	}
	if kept[0] != &c.run.req {
		t.Error("the first tools/call did not run in the Call's own record")
	}
}
