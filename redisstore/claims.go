package redisstore

import (
	"context"
	"strconv"
	"sync"

	"github.com/redis/rueidis"

	"github.com/mcpfiber/mcpfiber/sessions"
)

// GET stream claims ([sessions.GETClaims]): a session has one GET stream
// across the nodes (2025-11-25 basic/transports: a second gets 409). The
// node that opens it claims it: "<prefix>g:{<id>}" holds that node's
// number, with a TTL of 3 × PingInterval (at least 3 s) that the pinger
// renews while the claim lasts, so the claim of a node that died goes
// with it. Other nodes send the session's messages for its GET stream to
// the holder ([Store.RelayStandalone]).

// Interface guard.
var _ sessions.GETClaims = (*Store)(nil)

// claims are the GET stream claims this node holds, by session ID.
type claims struct {
	mu  sync.Mutex
	ids map[string]struct{}
	f   func(id string, msg []byte) // OnStandalone's
}

// claimScript sets KEYS[1] to ARGV[1] (this node) with PX ARGV[2] unless
// it holds another node's number; 1 if claimed.
var claimScript = rueidis.NewLuaScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// releaseScript deletes KEYS[1] if it holds ARGV[1] (this node).
var releaseScript = rueidis.NewLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

func (s *Store) claimKey(id string) string { return s.opts.Prefix + "g:{" + id + "}" }

// ClaimGET makes this node the holder of session id's GET stream, unless
// another node holds it (then ok is false: the transport answers 409). A
// claim lasts until ReleaseGET, or until this node stops renewing it
// (three pings). I/O errors wrap sessions.ErrStoreUnavailable.
func (s *Store) ClaimGET(ctx context.Context, id string) (ok bool, err error) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	s.ops.Add(1)
	me := strconv.FormatUint(uint64(s.nodeNum), 10)
	n, err := claimScript.Exec(ctx, s.c, []string{s.claimKey(id)}, []string{me, strconv.FormatInt(ms(s.aliveTTL()), 10)}).AsInt64()
	if err != nil {
		return false, s.fail("claim", err)
	}
	if n == 0 {
		return false, nil
	}
	s.claims.mu.Lock()
	if s.claims.ids == nil {
		s.claims.ids = make(map[string]struct{})
	}
	s.claims.ids[id] = struct{}{}
	s.claims.mu.Unlock()
	return true, nil
}

// ReleaseGET gives up this node's claim on session id's GET stream, if
// it holds it. A failure is counted, and the claim expires by itself.
func (s *Store) ReleaseGET(ctx context.Context, id string) {
	s.claims.mu.Lock()
	delete(s.claims.ids, id)
	s.claims.mu.Unlock()
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	s.ops.Add(1)
	me := strconv.FormatUint(uint64(s.nodeNum), 10)
	if err := releaseScript.Exec(ctx, s.c, []string{s.claimKey(id)}, []string{me}).Error(); err != nil {
		_ = s.fail("release", err)
	}
}

// GETHolder returns the number of the node holding session id's GET
// stream, or 0 if none does.
func (s *Store) GETHolder(ctx context.Context, id string) (uint32, error) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	s.ops.Add(1)
	v, err := s.c.Do(ctx, s.c.B().Get().Key(s.claimKey(id)).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return 0, nil
	}
	if err != nil {
		return 0, s.fail("holder", err)
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, nil
	}
	return uint32(n), nil
}

// renewClaims postpones the expiry of the claims this node holds: one
// pipelined PEXPIRE each. The pinger calls it after each ping.
func (s *Store) renewClaims() {
	s.claims.mu.Lock()
	if len(s.claims.ids) == 0 {
		s.claims.mu.Unlock()
		return
	}
	cmds := make(rueidis.Commands, 0, len(s.claims.ids))
	for id := range s.claims.ids {
		cmds = append(cmds, s.c.B().Pexpire().Key(s.claimKey(id)).Milliseconds(ms(s.aliveTTL())).Build())
	}
	s.claims.mu.Unlock()
	ctx, cancel := s.opCtx(s.ctx)
	defer cancel()
	for _, r := range s.c.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil && s.ctx.Err() == nil {
			_ = s.fail("renew claims", err)
			return
		}
	}
}

// RelayStandalone sends msg, a message of session id for its GET stream,
// to the node numbered node, which holds that stream (GETHolder): one
// PUBLISH, "s <from> <node> <id> <msg>".
func (s *Store) RelayStandalone(ctx context.Context, node uint32, id string, msg []byte) error {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	s.ops.Add(1)
	to := strconv.FormatUint(uint64(node), 10)
	p := make([]byte, 0, 5+len(s.node)+len(to)+len(id)+len(msg))
	p = append(p, 's', ' ')
	p = append(p, s.node...)
	p = append(p, ' ')
	p = append(p, to...)
	p = append(p, ' ')
	p = append(p, id...)
	p = append(p, ' ')
	p = append(p, msg...)
	cmd := s.publishMsg(string(p))
	if err := s.c.Do(ctx, cmd).Error(); err != nil {
		return s.fail("relay standalone", err)
	}
	return nil
}

// OnStandalone sets f to take the messages other nodes relay to this
// node's GET streams (RelayStandalone). f runs on the subscriber
// goroutine and must not block.
func (s *Store) OnStandalone(f func(id string, msg []byte)) {
	s.claims.mu.Lock()
	s.claims.f = f
	s.claims.mu.Unlock()
}

// onStandalone handles an "s <from> <node> <id> <msg>" event.
func (s *Store) onStandalone(p string) {
	n := len(s.node)
	if len(p) < 2+n+1 || p[1] != ' ' || p[2+n] != ' ' || p[2:2+n] == s.node {
		return
	}
	rest := p[3+n:]
	sp := 0
	for sp < len(rest) && rest[sp] != ' ' {
		sp++
	}
	if sp == len(rest) || rest[:sp] != strconv.FormatUint(uint64(s.nodeNum), 10) {
		return
	}
	rest = rest[sp+1:]
	if len(rest) < IDLen+1 || rest[IDLen] != ' ' || !s.ValidID(rest[:IDLen]) {
		return
	}
	s.claims.mu.Lock()
	f := s.claims.f
	s.claims.mu.Unlock()
	if f != nil {
		f(rest[:IDLen], []byte(rest[IDLen+1:]))
	}
}
