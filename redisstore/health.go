package redisstore

import (
	"errors"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// Health is the state of the store's connection to Redis, as the pinger
// last saw it, and the store's counters.
type Health struct {
	// Up reports whether the last ping succeeded.
	Up bool
	// RTT is the round-trip time of the last successful ping.
	RTT time.Duration
	// Since is when Up last changed (or when the Store was made).
	Since time.Time
	// Ops is the number of operations (Create, Load, Save, Touch,
	// Delete) since New.
	Ops uint64
	// Errors is the number of operations and pings that failed with an
	// I/O error since New.
	Errors uint64
	// LastError describes the last such failure; "" if none.
	LastError string
	// EventsDropped is the number of events and stream ends that
	// AppendEvent and FinishStream dropped since New: the queue was full
	// or the Store closed, Redis failed the batch that carried them, or
	// Redis refused one appended twice (or after a later one).
	EventsDropped uint64
	// EventsRetried is the number of events and stream ends queued again
	// since New because Redis could not be reached to take them.
	EventsRetried uint64
	// BroadcastsLocal is the number of this node's broadcasts since New
	// that Redis did not take, delivered to this node's clients only.
	BroadcastsLocal uint64
	// BroadcastsDropped is the number of broadcasts since New dropped
	// because the queue was full, the Store closed, or their XADD timed
	// out (those may have reached the log after all).
	BroadcastsDropped uint64
}

// Health returns the store's health. It does no I/O.
func (s *Store) Health() Health {
	s.hmu.Lock()
	h := s.health
	s.hmu.Unlock()
	h.Ops = s.ops.Load()
	h.Errors = s.errs.Load()
	s.evq.mu.Lock()
	h.EventsDropped = s.evq.dropped
	h.EventsRetried = s.evq.retried
	s.evq.mu.Unlock()
	h.BroadcastsLocal = s.bc.local.Load()
	h.BroadcastsDropped = s.bc.dropped.Load()
	return h
}

// pinger pings Redis every PingInterval until Close.
func (s *Store) pinger() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.ping()
		s.renewClaims()
	}
}

// ping sends, in one round trip, SET NX of the secret this node holds:
// after Redis lost its data (a restart without persistence) the secret is
// back within a ping, so nodes started later agree with the running ones;
// and SET of the node's liveness key, to expire three pings later
// ([Store.NodeAlive]). There is no PING: the two SETs are one (and on a
// Redis Cluster rueidis refuses a DoMulti that mixes a command with no
// slot and commands on two slots). It records the result in the health.
func (s *Store) ping() {
	ctx, cancel := s.opCtx(s.ctx)
	defer cancel()
	start := time.Now()
	res := s.c.DoMulti(ctx,
		s.c.B().Set().Key(s.secretKey).Value(rueidis.BinaryString(s.secret)).Nx().Build(),
		s.c.B().Set().Key(s.aliveKey).Value("1").PxMilliseconds(ms(s.aliveTTL())).Build())
	rtt := time.Since(start)
	err := res[0].Error()
	if rueidis.IsRedisNil(err) {
		err = nil // the secret was there
	}
	if err == nil {
		err = res[1].Error()
	}
	if s.ctx.Err() != nil {
		return // closing: not a failure of Redis
	}
	if err != nil {
		s.errs.Add(1)
	}
	s.hmu.Lock()
	defer s.hmu.Unlock()
	if up := err == nil; up != s.health.Up {
		s.health.Up, s.health.Since = up, time.Now()
	}
	if err == nil {
		s.health.RTT = rtt
	} else {
		s.health.LastError = "ping: " + err.Error()
	}
}

// subscribe receives the events channel and this node's node channel
// (claims.go) until Close (SSUBSCRIBE on a cluster, SUBSCRIBE otherwise),
// and subscribes again whenever the subscription ends (Redis down or
// restarted, the channel's slot moved): at once if it had lasted a
// PingInterval, after a pause of PingInterval otherwise. While it is
// down other nodes see this node as gone ([Store.NodeGone]). The first
// confirmation of the node channel closes s.subscribed.
func (s *Store) subscribe() {
	defer s.wg.Done()
	var once sync.Once
	ch := s.nodeChannel(s.nodeNum)
	ctx := rueidis.WithOnSubscriptionHook(s.ctx, func(sub rueidis.PubSubSubscription) {
		if sub.Channel == ch && (sub.Kind == "subscribe" || sub.Kind == "ssubscribe") {
			once.Do(func() { close(s.subscribed) })
		}
	})
	t := time.NewTimer(0)
	<-t.C
	for {
		sub := s.c.B().Subscribe().Channel(s.events, ch).Build()
		if s.cluster {
			sub = s.c.B().Ssubscribe().Channel(s.events, ch).Build()
		}
		start := time.Now()
		err := s.c.Receive(ctx, sub, s.onMessage)
		if s.ctx.Err() != nil || errors.Is(err, rueidis.ErrClosing) {
			return
		}
		if time.Since(start) >= s.opts.PingInterval {
			continue // a blip: others see this node gone until it is back
		}
		t.Reset(s.opts.PingInterval)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
