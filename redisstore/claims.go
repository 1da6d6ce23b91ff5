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
//
// A node killed with SIGKILL leaves its claims behind for up to that
// TTL. Redis sees its connections close at once, though, and with them
// its subscription to its node channel ("{<prefix>events}:n:<node>", on
// the subscriber's connection): [Store.NodeGone] asks Redis whether
// anyone listens on it (PUBSUB NUMSUB; SHARDNUMSUB on a cluster), and a
// node that finds the holder gone takes the claim over at once
// ([Store.StealGET], compare-and-set). The pinger renews only the claims
// that still hold this node's number, and reports the others lost
// ([Store.OnLostGET]): the transport then closes the stream it had.
//
// A false "gone": the holder is alive but its subscription is down (its
// connection to Redis broke; the subscriber subscribes again at once, or
// after a PingInterval when the previous subscription lasted less than
// that). A node that steals a claim then does what it would do for a dead
// holder, and the holder learns it at its next renewal (within a
// PingInterval) and closes its stream: the client, which was reconnecting
// anyway (a steal only follows a GET the client sent elsewhere), keeps
// the stream it opened on the other node. What the holder was relayed
// for the stream meanwhile (a server-to-client request) is lost and times
// out as for a client that does not answer.

// Interface guard.
var _ sessions.GETClaims = (*Store)(nil)

// claims are the GET stream claims this node holds, by session ID.
type claims struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	f    func(id string, msg []byte) // OnStandalone's
	lost func(id string)             // OnLostGET's
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

// stealScript sets KEYS[1] to ARGV[2] (this node) with PX ARGV[3] if it
// holds ARGV[1] (the node found gone) or nothing; 1 if claimed.
var stealScript = rueidis.NewLuaScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] and v ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// renewScript postpones KEYS[1]'s expiry to PX ARGV[2] if it holds
// ARGV[1] (this node), sets it again if it expired meanwhile (a pinger
// late by three pings, or Redis lost its data), and returns 0, changing
// nothing, if it holds another node's number: the claim was taken.
var renewScript = rueidis.NewLuaScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

func (s *Store) claimKey(id string) string { return s.opts.Prefix + "g:{" + id + "}" }

// nodeChannel returns the channel node n's subscriber listens on,
// "{<prefix>events}:n:<n>": the events channel's hash slot, so that one
// SSUBSCRIBE takes both on a cluster.
func (s *Store) nodeChannel(n uint32) string {
	return "{" + s.events + "}:n:" + strconv.FormatUint(uint64(n), 10)
}

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
	s.addClaim(id)
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

// NodeGone reports whether the process of node (a [Store.Node] number)
// is gone: no connection listens on its node channel (PUBSUB NUMSUB, or
// SHARDNUMSUB on a cluster; one round trip). Redis drops a killed
// process's subscription as soon as it sees its connection close, where
// its liveness key ([Store.NodeAlive]) lasts three pings; but a live
// node whose subscription is being re-established looks gone too (see
// the claims' doc in claims.go). I/O errors wrap
// [sessions.ErrStoreUnavailable].
func (s *Store) NodeGone(ctx context.Context, node uint32) (bool, error) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	s.ops.Add(1)
	ch := s.nodeChannel(node)
	cmd := s.c.B().PubsubNumsub().Channel(ch).Build()
	if s.cluster {
		cmd = s.c.B().PubsubShardnumsub().Channel(ch).Build()
	}
	m, err := s.c.Do(ctx, cmd).AsIntMap()
	if err != nil {
		return false, s.fail("node gone", err)
	}
	return m[ch] == 0, nil
}

// StealGET takes session id's GET stream claim from node from, which
// [Store.NodeGone] found gone: a script sets the claim to this node if it
// still holds from's number (or none), so that of two nodes stealing at
// once one wins. ok is false if another node holds it now. I/O errors
// wrap [sessions.ErrStoreUnavailable].
func (s *Store) StealGET(ctx context.Context, id string, from uint32) (ok bool, err error) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	s.ops.Add(1)
	me := strconv.FormatUint(uint64(s.nodeNum), 10)
	dead := strconv.FormatUint(uint64(from), 10)
	n, err := stealScript.Exec(ctx, s.c, []string{s.claimKey(id)}, []string{dead, me, strconv.FormatInt(ms(s.aliveTTL()), 10)}).AsInt64()
	if err != nil {
		return false, s.fail("steal claim", err)
	}
	if n == 0 {
		return false, nil
	}
	s.addClaim(id)
	return true, nil
}

// OnLostGET sets f to be called, on the pinger goroutine, with each
// session whose GET stream claim this node held and another node took
// ([Store.StealGET] after a false "gone"): the stream is no longer this
// node's. f must not block.
func (s *Store) OnLostGET(f func(id string)) {
	s.claims.mu.Lock()
	s.claims.lost = f
	s.claims.mu.Unlock()
}

// addClaim records that this node holds session id's claim.
func (s *Store) addClaim(id string) {
	s.claims.mu.Lock()
	if s.claims.ids == nil {
		s.claims.ids = make(map[string]struct{})
	}
	s.claims.ids[id] = struct{}{}
	s.claims.mu.Unlock()
}

// renewClaims postpones the expiry of the claims this node holds, in one
// pipeline of a compare-and-renew script each (renewScript): a claim
// another node took is not renewed but forgotten, and reported to the
// OnLostGET function. The pinger calls it after each ping.
func (s *Store) renewClaims() {
	s.claims.mu.Lock()
	if len(s.claims.ids) == 0 {
		s.claims.mu.Unlock()
		return
	}
	me := strconv.FormatUint(uint64(s.nodeNum), 10)
	ttl := strconv.FormatInt(ms(s.aliveTTL()), 10)
	ids := make([]string, 0, len(s.claims.ids))
	execs := make([]rueidis.LuaExec, 0, len(s.claims.ids))
	for id := range s.claims.ids {
		ids = append(ids, id)
		execs = append(execs, rueidis.LuaExec{Keys: []string{s.claimKey(id)}, Args: []string{me, ttl}})
	}
	s.claims.mu.Unlock()
	ctx, cancel := s.opCtx(s.ctx)
	defer cancel()
	var lost []string
	for i, r := range renewScript.ExecMulti(ctx, s.c, execs...) {
		n, err := r.AsInt64()
		if err != nil {
			if s.ctx.Err() == nil {
				_ = s.fail("renew claims", err)
			}
			return
		}
		if n == 0 {
			lost = append(lost, ids[i])
		}
	}
	if len(lost) == 0 {
		return
	}
	s.claims.mu.Lock()
	for _, id := range lost {
		delete(s.claims.ids, id)
	}
	f := s.claims.lost
	s.claims.mu.Unlock()
	if f != nil {
		for _, id := range lost {
			f(id)
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
