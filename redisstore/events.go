package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/mcpfiber/mcpfiber/sessions"
)

// Event logs ([sessions.EventStore]): see the package doc, "# Event
// logs", for the keys and the entry IDs.

// Interface guard.
var _ sessions.EventStore = (*Store)(nil)

// Bounds of the queue of [Store.AppendEvent] and [Store.FinishStream].
const (
	// DefaultEventQueue is the default [Options.EventQueue].
	DefaultEventQueue = 65536
	// maxQueuedBytes bounds the event data waiting in the queue.
	maxQueuedBytes = 64 << 20
	// maxBatch bounds the commands of one DoMulti of the writer; past
	// rueidis's BlockingPipeline (2000) a DoMulti takes a dedicated
	// connection instead of the shared pipeline.
	maxBatch = 1024
	// readCount is the most entries ReadEvents reads at once.
	readCount = 256
)

// An evItem is an event or a stream's end waiting in the queue.
type evItem struct {
	id     string // session
	stream uint64
	seq    uint64 // the event's; the last event's for an end
	data   []byte // nil for an end
	cur    sessions.Cursor
	ttl    time.Duration
	maxLen int
	end    bool
}

// An evQueue is the writer's queue: AppendEvent and FinishStream add to
// it without blocking, the writer goroutine takes everything at once.
type evQueue struct {
	wake chan struct{} // cap 1: something was queued

	mu      sync.Mutex // guards the fields below
	items   []evItem   // queued, in order
	bytes   int        // the sum of len(data) over items
	closed  bool       // the writer exited: drop everything
	dropped uint64     // items dropped: queue full, closed, or a failed batch
	retried uint64     // items queued again after Redis could not be reached
}

// Node returns this node's number among those sharing the Redis: INCR of
// the nodes counter at New (wrapping around past 2^32-1, skipping 0). It
// does no I/O.
func (s *Store) Node() uint32 { return s.nodeNum }

// nodeNum returns the node number for the nodes counter's value n >= 1.
func nodeNum(n int64) uint32 {
	return uint32((uint64(n)-1)%(1<<32-1)) + 1
}

// aliveKeyOf returns the key whose existence says that node is alive,
// "<prefix>node:<n>".
func (s *Store) aliveKeyOf(node uint32) string {
	return s.opts.Prefix + "node:" + strconv.FormatUint(uint64(node), 10)
}

// aliveTTL returns the PX of the liveness key: three pings, at least 3 s.
func (s *Store) aliveTTL() time.Duration {
	return max(3*s.opts.PingInterval, 3*time.Second)
}

// eventsKey returns the key of the Redis Stream of stream of session id,
// "<prefix>e:{<id>}:<stream>": the session's hash tag.
func (s *Store) eventsKey(id string, stream uint64) string {
	return s.opts.Prefix + "e:{" + id + "}:" + strconv.FormatUint(stream, 10)
}

// AppendEvent queues event seq of stream (of session id) for the
// writer, which sends it as XADD key MAXLEN ~ maxLen <seq>-1 d data
// [c <cur>] (maxLen <= 0: no trimming; the field c, the broadcast cursor
// "<ms>-<n>", only if cur is not zero), and PEXPIRE key ttl (ttl <= 0:
// none). It never blocks and takes ownership of data. With
// [Options.EventQueue] items or 64 MiB of data queued, or after Close,
// it drops the event and counts it in [Health].EventsDropped.
func (s *Store) AppendEvent(id string, stream, seq uint64, data []byte, cur sessions.Cursor, ttl time.Duration, maxLen int) {
	s.enqueue(evItem{id: id, stream: stream, seq: seq, data: data, cur: cur, ttl: ttl, maxLen: maxLen})
}

// FinishStream queues the end of stream after its event last: XADD key
// <last>-2 f 1, and PEXPIRE key ttl. It never blocks; it drops the end as
// AppendEvent drops an event.
func (s *Store) FinishStream(id string, stream, last uint64, ttl time.Duration) {
	s.enqueue(evItem{id: id, stream: stream, seq: last, ttl: ttl, end: true})
}

// enqueue adds it to the writer's queue, or drops it.
func (s *Store) enqueue(it evItem) {
	q := &s.evq
	q.mu.Lock()
	if q.closed || len(q.items) >= s.opts.EventQueue || q.bytes+len(it.data) > maxQueuedBytes && len(q.items) > 0 {
		q.dropped++
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, it)
	q.bytes += len(it.data)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take returns everything queued, and gives the queue the previous
// batch's array for reuse.
func (q *evQueue) take(prev []evItem) []evItem {
	clear(prev) // drop the references to the data sent
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.items
	q.items, q.bytes = prev[:0], 0
	return b
}

// requeue puts items, which Redis could not be reached to take, back at
// the front of the queue, in order, for the writer to send again. Past
// the queue's bounds the oldest items are dropped (counted).
func (q *evQueue) requeue(items []evItem, maxItems int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		q.dropped += uint64(len(items))
		return
	}
	q.retried += uint64(len(items))
	all := make([]evItem, 0, len(items)+len(q.items))
	all = append(append(all, items...), q.items...)
	for _, it := range items {
		q.bytes += len(it.data)
	}
	drop := 0
	for len(all)-drop > maxItems || q.bytes > maxQueuedBytes && len(all)-drop > 1 {
		q.bytes -= len(all[drop].data)
		drop++
	}
	q.dropped += uint64(drop)
	q.items = all[drop:]
}

// writer sends what AppendEvent and FinishStream queue until Close, and
// then, within [Options.Timeout], what is left. What Redis could not be
// reached to take (down, restarting, a failover) is sent again, after a
// PingInterval, until Close: a stream's end lost in a blip would leave a
// node following the stream waiting for it as long as the writer lives.
func (s *Store) writer() {
	defer s.wg.Done()
	var batch []evItem
	for {
		select {
		case <-s.evq.wake:
		case <-s.ctx.Done():
			s.evq.mu.Lock()
			s.evq.closed = true // from now on enqueue drops
			s.evq.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
			defer cancel()
			s.write(ctx, s.evq.take(batch))
			return
		}
		for {
			if batch = s.evq.take(batch); len(batch) == 0 {
				break
			}
			ctx, cancel := s.opCtx(context.Background())
			rest := s.write(ctx, batch)
			cancel()
			if len(rest) > 0 {
				s.evq.requeue(rest, s.opts.EventQueue)
				t := time.NewTimer(s.opts.PingInterval)
				select {
				case <-s.ctx.Done():
				case <-t.C:
				}
				t.Stop()
				select {
				case s.evq.wake <- struct{}{}: // so that Close's final write, or the next pass, sends them
				default:
				}
				break
			}
		}
	}
}

// write sends batch, in order, in DoMultis of at most maxBatch commands:
// an XADD per item, then a PEXPIRE per key with a ttl. A DoMulti that
// could not reach Redis (an I/O error, not an error reply or a timeout:
// see unsent) counts once
// in Health.Errors, and write returns its items and those after it, for
// the writer to send again. Items Redis refused with an error reply
// count in Health.Errors and EventsDropped; an XADD Redis refuses
// because its ID is not above the stream's last (the event was appended
// already, or a later one was) counts in EventsDropped only.
func (s *Store) write(ctx context.Context, batch []evItem) (rest []evItem) {
	cmds := make(rueidis.Commands, 0, min(len(batch), maxBatch)+16)
	ttls := make(map[string]time.Duration)
	var idb []byte
	for len(batch) > 0 {
		n := min(len(batch), maxBatch)
		cmds = cmds[:0]
		clear(ttls)
		for _, it := range batch[:n] {
			key := s.eventsKey(it.id, it.stream)
			idb = strconv.AppendUint(idb[:0], it.seq, 10)
			var cmd rueidis.Completed
			if it.end {
				idb = append(idb, "-2"...)
				cmd = s.c.B().Xadd().Key(key).Id(string(idb)).FieldValue().FieldValue("f", "1").Build()
			} else {
				idb = append(idb, "-1"...)
				x := s.c.B().Xadd().Key(key)
				d := rueidis.BinaryString(it.data)
				c := ""
				if !it.cur.IsZero() {
					c = string(sessions.AppendCursor(nil, it.cur))
				}
				switch {
				case it.maxLen > 0 && c != "":
					cmd = x.Maxlen().Almost().Threshold(strconv.Itoa(it.maxLen)).Id(string(idb)).
						FieldValue().FieldValue("d", d).FieldValue("c", c).Build()
				case it.maxLen > 0:
					cmd = x.Maxlen().Almost().Threshold(strconv.Itoa(it.maxLen)).Id(string(idb)).
						FieldValue().FieldValue("d", d).Build()
				case c != "":
					cmd = x.Id(string(idb)).FieldValue().FieldValue("d", d).FieldValue("c", c).Build()
				default:
					cmd = x.Id(string(idb)).FieldValue().FieldValue("d", d).Build()
				}
			}
			cmds = append(cmds, cmd)
			if it.ttl > 0 {
				ttls[key] = it.ttl
			}
		}
		for key, ttl := range ttls {
			cmds = append(cmds, s.c.B().Pexpire().Key(key).Milliseconds(ms(ttl)).Build())
		}
		lost := 0
		var first error
		unreached := false
		for i, r := range s.c.DoMulti(ctx, cmds...) {
			err := r.Error()
			if err == nil {
				continue
			}
			if i < n && unsent(err) {
				unreached = true
			}
			if i < n {
				lost++
				if staleID(err) {
					continue // not a failure of Redis
				}
			}
			if first == nil {
				first = err
			}
		}
		if first != nil {
			_ = s.fail("append events", first)
		}
		if unreached && s.ctx.Err() == nil {
			return batch // sent again: those Redis took will be refused as stale
		}
		if lost > 0 {
			s.evq.mu.Lock()
			s.evq.dropped += uint64(lost)
			s.evq.mu.Unlock()
		}
		batch = batch[n:]
	}
	return nil
}

// unsent reports whether err says that Redis could not be reached to
// take a command: an I/O error other than a timeout. After a timeout the
// command may still be on its way (a hung Redis reads it once it wakes),
// and sending it again would pile up copies in the pipeline.
func unsent(err error) bool {
	if _, reply := rueidis.IsRedisErr(err); reply {
		return false
	}
	return !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
}

// staleID reports whether err is Redis refusing an XADD whose ID is not
// above the stream's last: the event (or end) was appended already, or
// one after it was.
func staleID(err error) bool {
	re, ok := rueidis.IsRedisErr(err)
	return ok && strings.Contains(re.Error(), "equal or smaller")
}

// ReadEvents returns the events of stream (of session id) after seq
// after, in order, at most 256: XRANGE key (<after>-1 + COUNT 256, which
// also reads the end <after>-2. With none and wait > 0 it waits up to
// wait for one with XREAD BLOCK, which rueidis sends on a connection of
// its blocking pool, not on the shared pipeline (one connection per
// waiting reader). finished reports that the end was read, after the
// events returned.
//
// I/O errors wrap [sessions.ErrStoreUnavailable]; ctx's own error is
// returned as is.
func (s *Store) ReadEvents(ctx context.Context, id string, stream, after uint64, wait time.Duration) (evs []sessions.Event, finished bool, err error) {
	s.ops.Add(1)
	key := s.eventsKey(id, stream)
	start := strconv.FormatUint(after, 10) + "-1"
	rctx, cancel := s.opCtx(ctx)
	entries, err := s.c.Do(rctx, s.c.B().Xrange().Key(key).Start("("+start).End("+").Count(readCount).Build()).AsXRangeSlices()
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, s.fail("read events", err)
	}
	if len(entries) > 0 || wait <= 0 {
		evs, finished = toEvents(entries)
		return evs, finished, nil
	}
	// Wait, on a blocking connection, for at most wait, and within ctx's
	// deadline: leave the reply a timeout's share of it.
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		wait = min(wait, left-min(s.opts.Timeout, left/2))
		if wait <= 0 {
			return nil, false, nil
		}
	}
	bctx, cancel := context.WithTimeout(ctx, wait+s.opts.Timeout)
	defer cancel()
	res, err := s.c.Do(bctx, s.c.B().Xread().Count(readCount).Block(ms(wait)).Streams().Key(key).Id(start).Build().UnblockOnCancel()).AsXReadSlices()
	if rueidis.IsRedisNil(err) {
		return nil, false, nil // nothing within wait
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, s.fail("read events", err)
	}
	evs, finished = toEvents(res[key])
	return evs, finished, nil
}

// toEvents converts stream entries to events, up to the end marker.
// Entries of another shape are skipped.
func toEvents(entries []rueidis.XRangeSlice) (evs []sessions.Event, finished bool) {
	for _, e := range entries {
		seqs, kind, ok := strings.Cut(e.ID, "-")
		if !ok {
			continue
		}
		seq, err := strconv.ParseUint(seqs, 10, 64)
		if err != nil {
			continue
		}
		switch kind {
		case "1":
			if len(e.FieldValues) == 0 {
				continue
			}
			if evs == nil {
				evs = make([]sessions.Event, 0, len(entries))
			}
			ev := sessions.Event{Seq: seq, Data: []byte(e.FieldValues[0].Value)}
			for _, fv := range e.FieldValues[1:] {
				if fv.Field == "c" {
					ev.Cursor, _ = sessions.ParseCursor([]byte(fv.Value))
				}
			}
			evs = append(evs, ev)
		case "2":
			return evs, true
		}
	}
	return evs, false
}

// NodeAlive reports whether node's liveness key exists: the node's
// pinger sets it every ping, to expire three pings later (at least 3 s),
// and Close deletes it. I/O errors wrap [sessions.ErrStoreUnavailable].
func (s *Store) NodeAlive(ctx context.Context, node uint32) (bool, error) {
	s.ops.Add(1)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	n, err := s.c.Do(ctx, s.c.B().Exists().Key(s.aliveKeyOf(node)).Build()).AsInt64()
	if err != nil {
		return false, s.fail("node alive", err)
	}
	return n > 0, nil
}
