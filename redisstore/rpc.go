package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/mcpfiber/mcpfiber/sessions"
)

// Calls between nodes: a node asks another node, named by its ID
// ([Store.NodeID]), to answer a request it holds the state for (a
// 2026-07-28 tasks/* request for a task that node runs), and waits for
// the answer. The question goes out on the events channel as
// "q <from> <to> <call> <payload>", the answer comes back as
// "a <from> <to> <call> <payload>"; <call> is 16 hex digits, random per
// call. Every node receives both and drops what is not addressed to it.
// A call whose node is gone, or whose answer is lost while a subscriber
// reconnects, fails at its context's deadline.

// calls are the calls of this node waiting for their answer, by call ID.
type calls struct {
	mu      sync.Mutex
	waiting map[string]chan []byte
	handler atomic.Pointer[func(ctx context.Context, payload []byte) []byte]
}

// Call sends payload to the node named node and returns its answer (see
// [Store.OnCall]). It fails with ctx's error, wrapped with
// sessions.ErrStoreUnavailable, when no answer came in time (the node is
// gone, or has no OnCall), and with such an error when Redis cannot take
// the question.
func (s *Store) Call(ctx context.Context, node string, payload []byte) ([]byte, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	ch := make(chan []byte, 1)
	s.calls.mu.Lock()
	if s.calls.waiting == nil {
		s.calls.waiting = make(map[string]chan []byte)
	}
	s.calls.waiting[id] = ch
	s.calls.mu.Unlock()
	defer func() {
		s.calls.mu.Lock()
		delete(s.calls.waiting, id)
		s.calls.mu.Unlock()
	}()
	if err := s.send(ctx, 'q', node, id, payload); err != nil {
		return nil, err
	}
	select {
	case a := <-ch:
		return a, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("redisstore: call to node %s: %w: %w", node, sessions.ErrStoreUnavailable, ctx.Err())
	case <-s.ctx.Done():
		return nil, fmt.Errorf("redisstore: call to node %s: %w: the store is closed", node, sessions.ErrStoreUnavailable)
	}
}

// OnCall sets f to answer the calls other nodes make to this one: f gets
// the payload and returns the answer, within ctx (bounded by the store's
// Timeout times 10). Each call runs on a goroutine of its own (owner: the
// Store; exit: f returns). OnCall(nil) stops answering.
func (s *Store) OnCall(f func(ctx context.Context, payload []byte) []byte) {
	if f == nil {
		s.calls.handler.Store(nil)
		return
	}
	s.calls.handler.Store(&f)
}

// send publishes a call event of kind 'q' or 'a' to node.
func (s *Store) send(ctx context.Context, kind byte, node, id string, payload []byte) error {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	s.ops.Add(1)
	msg := make([]byte, 0, 4+len(s.node)+len(node)+len(id)+len(payload))
	msg = append(msg, kind, ' ')
	msg = append(msg, s.node...)
	msg = append(msg, ' ')
	msg = append(msg, node...)
	msg = append(msg, ' ')
	msg = append(msg, id...)
	msg = append(msg, ' ')
	msg = append(msg, payload...)
	p := string(msg)
	cmd := s.publishMsg(p)
	if err := s.c.Do(ctx, cmd).Error(); err != nil {
		return s.fail("call", err)
	}
	return nil
}

// onCallEvent handles a "q" or "a" event: p is the whole message.
func (s *Store) onCallEvent(p string) {
	n := len(s.node)
	// kind, space, from, space, to, space, call (16), space, payload
	if len(p) < 2+n+1+n+1+16+1 || p[1] != ' ' || p[2+n] != ' ' || p[3+2*n] != ' ' || p[4+2*n+16] != ' ' {
		return
	}
	from, to, id := p[2:2+n], p[3+n:3+2*n], p[4+2*n:4+2*n+16]
	if to != s.node {
		return
	}
	payload := []byte(p[5+2*n+16:])
	switch p[0] {
	case 'a':
		s.calls.mu.Lock()
		ch := s.calls.waiting[id]
		s.calls.mu.Unlock()
		if ch != nil {
			select {
			case ch <- payload:
			default:
			}
		}
	case 'q':
		f := s.calls.handler.Load()
		if f == nil {
			return
		}
		s.wg.Add(1)
		go func() { // owner: the Store; exit: f returns and the answer is sent
			defer s.wg.Done()
			ctx, cancel := context.WithTimeout(s.ctx, 10*s.opts.Timeout)
			defer cancel()
			answer := (*f)(ctx, payload)
			_ = s.send(ctx, 'a', from, id, answer)
		}()
	}
}
