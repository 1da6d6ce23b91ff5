package redisstore

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/mcpfiber/mcpfiber/sessions"
)

// The broadcast log ([sessions.BroadcastLog]): a notification for every
// client of the deployment goes to one Redis Stream, P + "b", and every
// node reads it in order and delivers each entry to its own clients,
// the raising node included: all the nodes deliver the broadcasts in one
// order, and an entry's ID is a position every node agrees on (the GET
// streams' cursors, see package sessions, "Broadcasts across nodes").
//
// Broadcast queues the payload; the broadcaster goroutine sends what is
// queued in one pipeline of XADD P+"b" MAXLEN ~ BroadcastLogLen * p
// <payload>, in the order Broadcast was called. The consumer goroutine
// reads the log with XREAD BLOCK from the last entry it delivered and
// calls the OnBroadcast function with each entry, holding the consumer
// lock, which [Store.PauseBroadcasts] takes too.
//
// Failure policy: a broadcast Redis could not be reached to take (down,
// the connection refused or broken) or refused with an error reply is
// delivered by the raising node to its own clients only (OnBroadcast
// with a zero ID) and counted in [Health].BroadcastsLocal: the other
// nodes' clients miss it, as a Redis-less deployment's would. One whose
// XADD timed out is counted in [Health].BroadcastsDropped and not
// delivered here (it may still reach the log, and then every node
// delivers it, late); so is one that finds the queue full
// (broadcastQueue, Redis too slow) or the Store closed.
// While the consumer cannot read the log it tries again every
// PingInterval from where it stopped: the entries wait in the log, and
// the node delivers them late, in order, unless the log's bound dropped
// them meanwhile (BroadcastLogLen entries: at 300 broadcasts a second,
// the default keeps more than five minutes of them). After a Redis
// restart that lost the log, the consumer goes on from its position:
// entry IDs are Redis's clock in milliseconds, so the new entries come
// after it, unless that clock went back.

// Bounds of the broadcast log and queue.
const (
	// DefaultBroadcastLogLen is the default [Options.BroadcastLogLen].
	DefaultBroadcastLogLen = 100_000
	// broadcastQueue bounds the broadcasts waiting for the broadcaster.
	broadcastQueue = 4096
	// broadcastRead is the most entries the consumer reads at once.
	broadcastRead = 512
)

// bcast is the broadcast log's state in a Store.
type bcast struct {
	wake chan struct{} // cap 1: a broadcast was queued

	qmu     sync.Mutex // guards q
	q       [][]byte   // queued payloads, in order
	closed  bool       // the broadcaster exited: drop
	dropped atomic.Uint64
	local   atomic.Uint64

	f atomic.Pointer[func(id sessions.Cursor, payload []byte)] // OnBroadcast's

	// dmu is the consumer lock: held while an entry is delivered, and by
	// PauseBroadcasts.
	dmu sync.Mutex
	pos sessions.Cursor // guarded by dmu: the last entry delivered ({1, 0} before any)
}

// broadcastKey returns the key of the broadcast log, P + "b".
func (s *Store) broadcastKey() string { return s.opts.Prefix + "b" }

// lastBroadcast returns the ID of the log's last entry, {1, 0} if it has
// none: where the consumer of a new Store starts. I/O errors wrap
// [sessions.ErrStoreUnavailable].
func (s *Store) lastBroadcast(ctx context.Context) (sessions.Cursor, error) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	es, err := s.c.Do(ctx, s.c.B().Xrevrange().Key(s.broadcastKey()).End("+").Start("-").Count(1).Build()).AsXRange()
	if err != nil {
		return sessions.Cursor{}, s.fail("broadcast log", err)
	}
	if len(es) == 0 {
		return sessions.Cursor{Ms: 1}, nil
	}
	c, ok := sessions.ParseCursor([]byte(es[0].ID))
	if !ok {
		return sessions.Cursor{Ms: 1}, nil
	}
	return c, nil
}

// Broadcast sends payload to every node, this one included, which passes
// it to its OnBroadcast function: for notifications that concern the
// clients of every node (a list changed, a resource was updated, a log
// message for all). It returns at once: it queues payload (taking
// ownership of it) for the broadcaster goroutine, which adds it to the
// broadcast log; broadcasts reach every node in the order of the log,
// which keeps the order of one node's Broadcast calls. See the failure
// policy in broadcast.go.
func (s *Store) Broadcast(payload []byte) {
	b := &s.bc
	b.qmu.Lock()
	if b.closed || len(b.q) >= broadcastQueue {
		b.qmu.Unlock()
		b.dropped.Add(1)
		return
	}
	b.q = append(b.q, payload)
	b.qmu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// OnBroadcast sets f to be called, on the consumer goroutine and one at a
// time, with each entry of the broadcast log (its ID and payload) in
// order, and, on the broadcaster goroutine, with a broadcast of this node
// that Redis did not take (id zero). f must not block for long: the
// node's deliveries wait for it. OnBroadcast(nil) stops the calls.
func (s *Store) OnBroadcast(f func(id sessions.Cursor, payload []byte)) {
	if f == nil {
		s.bc.f.Store(nil)
		return
	}
	s.bc.f.Store(&f)
}

// PauseBroadcasts runs f while no OnBroadcast call runs, with the ID of
// the last entry the consumer delivered ({1, 0} before any).
func (s *Store) PauseBroadcasts(f func(pos sessions.Cursor)) {
	s.bc.dmu.Lock()
	defer s.bc.dmu.Unlock()
	f(s.bc.pos)
}

// ReadBroadcasts returns the entries of the broadcast log after after, in
// order, up to upTo included (zero: the end), at most max (<= 0: all):
// XRANGE in pages of broadcastRead, the first from after itself. gap
// reports that the entry after is no longer in the log (positions are
// entry IDs, but for {1, 0}): the log's bound dropped it, and maybe
// entries after it, or Redis lost the log. I/O errors wrap
// [sessions.ErrStoreUnavailable].
func (s *Store) ReadBroadcasts(ctx context.Context, after, upTo sessions.Cursor, max int) (bs []sessions.Broadcast, gap bool, err error) {
	s.ops.Add(1)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	key := s.broadcastKey()
	end := "+"
	if !upTo.IsZero() {
		end = string(sessions.AppendCursor(nil, upTo))
	}
	start := string(sessions.AppendCursor(nil, after)) // inclusive: is it still there?
	first := true
	for {
		n := broadcastRead
		if max > 0 {
			n = min(n, max-len(bs))
		}
		if first {
			n++
		}
		es, err := s.c.Do(ctx, s.c.B().Xrange().Key(key).Start(start).End(end).Count(int64(n)).Build()).AsXRange()
		if err != nil {
			return nil, false, s.fail("read broadcasts", err)
		}
		got := len(es)
		if first {
			if len(es) > 0 && es[0].ID == start {
				es = es[1:]
			} else if after != (sessions.Cursor{Ms: 1}) {
				gap = true
			}
			first = false
		}
		for _, e := range es {
			id, ok := sessions.ParseCursor([]byte(e.ID))
			if !ok {
				continue
			}
			after = id
			if p, ok := e.FieldValues["p"]; ok {
				bs = append(bs, sessions.Broadcast{ID: id, Payload: []byte(p)})
			}
		}
		if got < n || max > 0 && len(bs) >= max {
			if max > 0 && len(bs) > max {
				bs = bs[:max]
			}
			return bs, gap, nil
		}
		start = "(" + string(sessions.AppendCursor(nil, after))
	}
}

// broadcaster adds the queued broadcasts to the log until Close.
func (s *Store) broadcaster() {
	defer s.wg.Done()
	b := &s.bc
	var batch [][]byte
	for {
		select {
		case <-b.wake:
		case <-s.ctx.Done():
			b.qmu.Lock()
			b.closed = true
			b.dropped.Add(uint64(len(b.q)))
			b.q = nil
			b.qmu.Unlock()
			return
		}
		for {
			clear(batch)
			b.qmu.Lock()
			batch, b.q = b.q, batch[:0]
			b.qmu.Unlock()
			if len(batch) == 0 {
				break
			}
			s.addBroadcasts(batch)
		}
	}
}

// addBroadcasts sends batch to the log in one pipeline, in order, and
// delivers here what Redis did not take.
func (s *Store) addBroadcasts(batch [][]byte) {
	key := s.broadcastKey()
	maxLen := strconv.Itoa(s.opts.BroadcastLogLen)
	cmds := make(rueidis.Commands, 0, len(batch))
	for _, p := range batch {
		cmds = append(cmds, s.c.B().Xadd().Key(key).Maxlen().Almost().Threshold(maxLen).Id("*").
			FieldValue().FieldValue("p", rueidis.BinaryString(p)).Build())
	}
	s.ops.Add(uint64(len(batch)))
	ctx, cancel := s.opCtx(s.ctx)
	res := s.c.DoMulti(ctx, cmds...)
	cancel()
	var first error
	for i, r := range res {
		if err := r.Error(); err != nil {
			if first == nil {
				first = err
			}
			if _, reply := rueidis.IsRedisErr(err); reply || unsent(err) {
				s.bc.local.Add(1)
				s.deliverBroadcast(sessions.Cursor{}, batch[i])
			} else {
				// A timeout: the XADD may yet reach the log (a hung
				// Redis reads it once it wakes), and the consumer would
				// deliver it a second time.
				s.bc.dropped.Add(1)
			}
		}
	}
	if first != nil && s.ctx.Err() == nil {
		_ = s.fail("broadcast", first)
	}
}

// deliverBroadcast calls the OnBroadcast function with id and payload,
// holding the consumer lock; id, unless zero, becomes the position.
func (s *Store) deliverBroadcast(id sessions.Cursor, payload []byte) {
	s.bc.dmu.Lock()
	defer s.bc.dmu.Unlock()
	if !id.IsZero() {
		if !s.bc.pos.Less(id) {
			return // delivered already
		}
		s.bc.pos = id
	}
	if f := s.bc.f.Load(); f != nil {
		(*f)(id, payload)
	}
}

// consume reads the broadcast log from the consumer's position and
// delivers each entry, in order, until Close; while Redis cannot be
// read it tries again every PingInterval.
func (s *Store) consume() {
	defer s.wg.Done()
	key := s.broadcastKey()
	wait := max(s.opts.PingInterval, time.Second)
	for s.ctx.Err() == nil {
		s.bc.dmu.Lock()
		from := string(sessions.AppendCursor(nil, s.bc.pos))
		s.bc.dmu.Unlock()
		ctx, cancel := context.WithTimeout(s.ctx, wait+s.opts.Timeout)
		res, err := s.c.Do(ctx, s.c.B().Xread().Count(broadcastRead).Block(ms(wait)).Streams().Key(key).Id(from).Build().UnblockOnCancel()).AsXRead()
		cancel()
		if rueidis.IsRedisNil(err) {
			continue // nothing within wait
		}
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			_ = s.fail("read broadcast log", err)
			t := time.NewTimer(s.opts.PingInterval)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		for _, e := range res[key] {
			id, ok := sessions.ParseCursor([]byte(e.ID))
			if !ok {
				continue
			}
			s.deliverBroadcast(id, []byte(e.FieldValues["p"]))
		}
	}
}

// Interface guard.
var _ sessions.BroadcastLog = (*Store)(nil)
