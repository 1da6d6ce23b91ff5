package redisstore

import (
	"context"
	"sync/atomic"

	"github.com/mcpfiber/mcpfiber/sessions"
)

// Relaying ([sessions.Relay]): a client's message that concerns another
// node (a response to a request that node sent, a notifications/cancelled
// for a request running there) goes out on the events channel as
// "r <node> <id> <message>", and every other node's subscriber passes it
// to the OnRelay function, which drops it unless the session is held
// there. Like the other events it is fire and forget: a node whose
// subscription is down at that moment misses it, and the request it
// answers times out as it would without an answer.

// Interface guard.
var _ sessions.Relay = (*Store)(nil)

// NodeID returns this Store's ID among the nodes: 16 hex digits, random
// to each Store. Other packages use it where nodes need distinct names
// (the prefix of the IDs of server-to-client requests).
func (s *Store) NodeID() string { return s.node }

// ValidNodeID reports whether id has the shape of a [Store.NodeID]: 16
// lowercase hex digits. It does not allocate.
func ValidNodeID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Relay publishes msg, a JSON-RPC message of session id, to the other
// nodes: one PUBLISH (SPUBLISH on a cluster). It fails with an error
// wrapping sessions.ErrStoreUnavailable when Redis cannot take it.
func (s *Store) Relay(ctx context.Context, id string, msg []byte) error {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	s.ops.Add(1)
	payload := make([]byte, 0, 3+len(s.node)+len(id)+len(msg))
	payload = append(payload, 'r', ' ')
	payload = append(payload, s.node...)
	payload = append(payload, ' ')
	payload = append(payload, id...)
	payload = append(payload, ' ')
	payload = append(payload, msg...)
	p := string(payload)
	cmd := s.publishMsg(p)
	if err := s.c.Do(ctx, cmd).Error(); err != nil {
		return s.fail("relay", err)
	}
	return nil
}

// relayFunc holds OnRelay's function.
type relayFunc = atomic.Pointer[func(id string, msg []byte)]

// OnRelay sets f to be called, on the subscriber goroutine, with every
// message another node relayed. f must not block; OnRelay(nil) stops the
// calls.
func (s *Store) OnRelay(f func(id string, msg []byte)) {
	if f == nil {
		s.relay.Store(nil)
		return
	}
	s.relay.Store(&f)
}

// onRelay handles an "r <node> <id> <message>" event.
func (s *Store) onRelay(p string) {
	n := len(s.node)
	if len(p) < 2+n+1+IDLen+1 || p[1] != ' ' || p[2+n] != ' ' || p[3+n+IDLen] != ' ' {
		return
	}
	if p[2:2+n] == s.node {
		return
	}
	id := p[3+n : 3+n+IDLen]
	if !s.ValidID(id) {
		return
	}
	if f := s.relay.Load(); f != nil {
		(*f)(id, []byte(p[4+n+IDLen:]))
	}
}
