package redisstore

import (
	"context"
	"sync"
	"time"
)

// Deletes acknowledged. Delete publishes the end of a session, and
// PUBLISH answers how many subscribers got the message: every node
// subscribed then, this one included. Each other node, once it has ended
// its copy of the session (the Watch function returned), answers
// "k <node> <to> <id>", and Delete returns when all have answered, or
// after ackWait: so a client that sends its next request to another node
// right after the DELETE's 204 gets 404 there, not the copy the node has
// not dropped yet. A node whose subscription is down when the session
// ends is not counted (it learns of the end at its next touch or load).

// ackWait bounds how long Delete waits for the other nodes' answers.
const ackWait = 250 * time.Millisecond

// acks are the deletes of this node waiting for the other nodes' answers.
type acks struct {
	mu      sync.Mutex
	waiting map[string]chan struct{} // by session ID; one token per answer
}

// expect registers a delete of id that waits for answers.
func (a *acks) expect(id string) chan struct{} {
	ch := make(chan struct{}, 64)
	a.mu.Lock()
	if a.waiting == nil {
		a.waiting = make(map[string]chan struct{})
	}
	a.waiting[id] = ch
	a.mu.Unlock()
	return ch
}

func (a *acks) done(id string) {
	a.mu.Lock()
	delete(a.waiting, id)
	a.mu.Unlock()
}

// got takes an answer for id.
func (a *acks) got(id string) {
	a.mu.Lock()
	ch := a.waiting[id]
	a.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// awaitAcks waits for n answers on ch, at most ackWait (and ctx).
func awaitAcks(ctx context.Context, ch chan struct{}, n int64) {
	if n <= 0 {
		return
	}
	t := time.NewTimer(ackWait)
	defer t.Stop()
	for ; n > 0; n-- {
		select {
		case <-ch:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// ack answers a delete of session id that the node from published, on a
// goroutine of the Store (exit: the PUBLISH returns, within Timeout): the
// subscriber that calls it must not wait on Redis.
func (s *Store) ack(from, id string) {
	msg := "k " + s.node + " " + from + " " + id
	s.wg.Add(1)
	go func() { // owner: the Store; exit: the PUBLISH returns
		defer s.wg.Done()
		ctx, cancel := s.opCtx(s.ctx)
		defer cancel()
		cmd := s.publishMsg(msg)
		if err := s.c.Do(ctx, cmd).Error(); err != nil && s.ctx.Err() == nil {
			_ = s.fail("ack", err)
		}
	}()
}

// onAck handles a "k <from> <to> <id>" event.
func (s *Store) onAck(p string) {
	n := len(s.node)
	if len(p) != 2+n+1+n+1+IDLen || p[1] != ' ' || p[2+n] != ' ' || p[3+2*n] != ' ' || p[3+n:3+2*n] != s.node {
		return
	}
	s.acks.got(p[4+2*n:])
}
