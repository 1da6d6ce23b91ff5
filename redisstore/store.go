package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/mcpfiber/mcpfiber/mcp"
	"github.com/mcpfiber/mcpfiber/sessions"
)

// Options configure a [Store]. The zero value (or nil) is valid.
type Options struct {
	// Prefix starts every key and the events channel, so that several
	// deployments can share one Redis. It must not contain '{' or '}'
	// (they would break the per-session hash tags).
	//
	// Optional. Default: "mcpfiber:"
	Prefix string
	// Timeout bounds each operation whose context has no earlier
	// deadline, the pinger's round trip, and the dial of a connection.
	//
	// Optional. Default: 1 s.
	Timeout time.Duration
	// PingInterval is the time between two pings of the pinger, which
	// keeps [Health], re-establishes the shared secret after Redis lost
	// its data, and keeps the node alive ([Store.NodeAlive]: three
	// intervals, at least 3 s).
	//
	// Optional. Default: 1 s.
	PingInterval time.Duration
	// EventQueue bounds the events and stream ends that AppendEvent and
	// FinishStream queue for the writer goroutine; past it they drop
	// what they are given (see [Health].EventsDropped).
	//
	// Optional. Default: [DefaultEventQueue].
	EventQueue int
	// BroadcastLogLen bounds the broadcast log (broadcast.go): XADD
	// MAXLEN ~, so it keeps between BroadcastLogLen and about 100 more
	// entries. A GET stream resumed on another node gets the broadcasts
	// it missed only while the log still holds them.
	//
	// Optional. Default: [DefaultBroadcastLogLen].
	BroadcastLogLen int
}

// DefaultPrefix is the default [Options.Prefix].
const DefaultPrefix = "mcpfiber:"

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Prefix == "" {
		r.Prefix = DefaultPrefix
	}
	if r.Timeout <= 0 {
		r.Timeout = time.Second
	}
	if r.PingInterval <= 0 {
		r.PingInterval = time.Second
	}
	if r.EventQueue <= 0 {
		r.EventQueue = DefaultEventQueue
	}
	if r.BroadcastLogLen <= 0 {
		r.BroadcastLogLen = DefaultBroadcastLogLen
	}
	return r
}

// A Store keeps session records in Redis (a single server or a Redis
// Cluster); it implements [sessions.Store]. See the package doc for the
// keys, the failure behaviour and the goroutines. Its methods are safe for
// concurrent use.
type Store struct {
	c    rueidis.Client
	opts Options
	node string // this Store's ID in events: 16 hex digits
	// nodeNum is this Store's number among the nodes (events.go): INCR
	// of the nodes counter at New.
	nodeNum uint32
	evq     evQueue // AppendEvent's and FinishStream's, for the writer

	// Keys and channel.
	liveKey, secretKey, nodesKey, aliveKey, events string

	secret   []byte // the shared secret, 32 bytes
	stateKey []byte
	ids      *ids

	cluster bool // Redis Cluster: sharded pub/sub (SPUBLISH, SSUBSCRIBE)

	capped atomic.Bool // the live set is in use (a Create with max > 0 was seen)
	watch  atomic.Pointer[func(id string, ended bool)]
	relay  relayFunc // OnRelay's (relay.go)
	calls  calls     // Call and OnCall (rpc.go)
	claims claims    // GET stream claims (claims.go)
	acks   acks      // deletes waiting for the other nodes (acks.go)
	bc     bcast     // the broadcast log (broadcast.go)

	ops, errs atomic.Uint64
	hmu       sync.Mutex
	health    Health

	subscribed chan struct{} // closed when the subscriber first listens on the node channel

	ctx       context.Context // canceled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the pinger, the subscriber, the writer, the broadcaster and the consumer
	closeOnce sync.Once
}

// Interface guard.
var _ sessions.Store = (*Store)(nil)

// New connects to the Redis at rawURL, agrees with the other nodes on the
// shared secret and a node number, and starts the pinger, the
// subscriber, the writer, the broadcaster and the consumer goroutines.
//
// rawURL is redis://[user:password@]host:port[/db] (rediss:// for TLS;
// for a Redis Cluster, further nodes as ?addr=host:port&addr=…; the
// cluster is detected by itself). New fails, with an error wrapping
// [sessions.ErrStoreUnavailable], if Redis does not answer within ctx's
// deadline and [Options.Timeout] for the connection: a binary calls it at
// start and exits, it does not wait for Redis. It fails with another
// error for a malformed URL or Options.
//
// The caller must Close the Store.
func New(ctx context.Context, rawURL string, opts *Options) (*Store, error) {
	o := opts.withDefaults()
	if strings.ContainsAny(o.Prefix, "{}") {
		return nil, fmt.Errorf("redisstore: prefix %q contains '{' or '}'", o.Prefix)
	}
	co, err := rueidis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redisstore: URL: %w", err)
	}
	where := redacted(rawURL)
	co.DisableCache = true // the session map is the cache
	co.DisableRetry = true // fail fast: the caller answers 503 and the client retries
	co.ClientName = "mcpfiber"
	co.Dialer.Timeout = o.Timeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < o.Timeout {
		co.Dialer.Timeout = max(time.Until(d), time.Millisecond)
	}
	c, err := rueidis.NewClient(co)
	if err != nil {
		return nil, fmt.Errorf("redisstore: connect to %s: %w: %w", where, sessions.ErrStoreUnavailable, err)
	}
	s := &Store{
		c:         c,
		opts:      o,
		liveKey:   o.Prefix + "live",
		secretKey: o.Prefix + "secret",
		nodesKey:  o.Prefix + "nodes",
		events:    o.Prefix + "events",
		cluster:   c.Mode() == rueidis.ClientModeCluster,
	}
	var node [8]byte
	_, _ = rand.Read(node[:])
	s.node = hex.EncodeToString(node[:])
	if err := s.agree(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("redisstore: %s: %w", where, err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.health = Health{Up: true, Since: time.Now()}
	s.evq.wake = make(chan struct{}, 1)
	s.subscribed = make(chan struct{})
	if s.bc.pos, err = s.lastBroadcast(ctx); err != nil {
		s.cancel()
		c.Close()
		return nil, fmt.Errorf("redisstore: %s: %w", where, err)
	}
	s.bc.wake = make(chan struct{}, 1)
	s.ping() // fills RTT, and shows the node alive
	s.wg.Add(5)
	go s.pinger()      // owner: the Store; exit: Close
	go s.subscribe()   // owner: the Store; exit: Close
	go s.writer()      // owner: the Store; exit: Close, after writing what is queued
	go s.broadcaster() // owner: the Store; exit: Close (what is queued then is dropped)
	go s.consume()     // owner: the Store; exit: Close (its XREAD BLOCK is cancelled)
	// Until it listens on its node channel, the node looks gone to the
	// others (NodeGone): wait for that, within Timeout, before it can
	// claim GET streams.
	t := time.NewTimer(o.Timeout)
	select {
	case <-s.subscribed:
	case <-t.C:
	}
	t.Stop()
	return s, nil
}

// redacted returns rawURL without its password, for error messages.
func redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "Redis"
	}
	return u.Redacted()
}

// agree stores a new random secret if Redis holds none (SET NX), reads the
// one it holds, and derives the keys from it; in the same round trip it
// takes the node's number (INCR of the nodes counter).
func (s *Store) agree(ctx context.Context) error {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	mine := make([]byte, secretLen)
	_, _ = rand.Read(mine)
	res := s.c.DoMulti(ctx,
		s.c.B().Set().Key(s.secretKey).Value(rueidis.BinaryString(mine)).Nx().Build(),
		s.c.B().Get().Key(s.secretKey).Build(),
		s.c.B().Exists().Key(s.liveKey).Build(),
		s.c.B().Incr().Key(s.nodesKey).Build())
	if err := res[0].Error(); err != nil && !rueidis.IsRedisNil(err) {
		return fmt.Errorf("store the shared secret: %w: %w", sessions.ErrStoreUnavailable, err)
	}
	secret, err := res[1].AsBytes()
	if err != nil {
		return fmt.Errorf("read the shared secret: %w: %w", sessions.ErrStoreUnavailable, err)
	}
	if len(secret) != secretLen {
		return fmt.Errorf("the shared secret %q is %d bytes, want %d", s.secretKey, len(secret), secretLen)
	}
	if n, err := res[2].AsInt64(); err == nil && n > 0 {
		s.capped.Store(true)
	}
	n, err := res[3].AsInt64()
	if err != nil {
		return fmt.Errorf("take a node number: %w: %w", sessions.ErrStoreUnavailable, err)
	}
	s.nodeNum = nodeNum(n)
	s.aliveKey = s.aliveKeyOf(s.nodeNum)
	idKey, stateKey, err := deriveKeys(secret)
	if err != nil {
		return err
	}
	if s.ids, err = newIDs(idKey); err != nil {
		return err
	}
	s.secret, s.stateKey = secret, stateKey
	return nil
}

// Close stops the pinger, the subscriber, the broadcaster, the consumer
// and the writer (which first
// writes what is queued, within [Options.Timeout]), waits for them to
// exit, deletes the node's liveness key, and closes the connections.
// Operations after Close fail with an error wrapping
// [sessions.ErrStoreUnavailable]. It returns nil; calling it again does
// nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
		_ = s.c.Do(ctx, s.c.B().Del().Key(s.aliveKey).Build()).Error()
		cancel()
		s.c.Close()
	})
	return nil
}

// StateKey returns the 32-byte key for mcp.ServerOptions.StateKey, the
// same on every node sharing the Redis: HKDF-SHA256 of the shared secret.
// The caller must not modify it.
func (s *Store) StateKey() []byte { return s.stateKey }

// NewID returns a new session ID: [IDLen] lowercase hex digits, 16 bytes
// from crypto/rand and an 8-byte tag over them keyed by the shared secret,
// so every node of the Redis accepts it in ValidID.
func (s *Store) NewID() string { return s.ids.newID() }

// ValidID reports whether id is an ID that a node of this Redis made
// with NewID: its length, alphabet and tag. It does no I/O, neither
// retains id nor allocates.
func (s *Store) ValidID(id string) bool { return s.ids.valid(id) }

// recordKey returns the key of session id's record, "<prefix>s:{<id>}".
func (s *Store) recordKey(id string) string {
	return s.opts.Prefix + "s:{" + id + "}"
}

// opCtx bounds ctx by the operation timeout unless it has an earlier
// deadline.
func (s *Store) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.opts.Timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.opts.Timeout)
}

// fail counts a failed operation and returns its error, wrapping
// sessions.ErrStoreUnavailable and err.
func (s *Store) fail(op string, err error) error {
	s.errs.Add(1)
	s.hmu.Lock()
	s.health.LastError = op + ": " + err.Error()
	s.hmu.Unlock()
	return fmt.Errorf("redisstore: %s: %w: %w", op, sessions.ErrStoreUnavailable, err)
}

// ms returns d in whole milliseconds, at least 1.
func ms(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

// expiryScore returns the live set's score of a session expiring ttl from
// now: unix milliseconds, or +inf for ttl <= 0 (never).
func expiryScore(now time.Time, ttl time.Duration) float64 {
	if ttl <= 0 {
		return inf
	}
	return float64(now.Add(ttl).UnixMilli())
}

var inf = math.Inf(1)

// encode returns the stored form of r: its MarshalBinary without the ID,
// which the key holds (Load puts it back): 48 bytes less per session.
func encode(r *mcp.SessionRecord) (string, error) {
	c := *r
	c.ID = ""
	b, err := c.MarshalBinary()
	if err != nil {
		return "", fmt.Errorf("redisstore: encode the record of %s: %w", r.ID, err)
	}
	return rueidis.BinaryString(b), nil
}

// createScript admits a session into the live set (KEYS[1]) unless it
// holds ARGV[2] live sessions: it first drops the sessions whose expiry
// score (unix ms) is at or before ARGV[1], now. ARGV[3] is the new
// session's expiry score, ARGV[4] its ID. It returns 1 if admitted, 0 if
// full.
const createScript = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
return 1
`

// Create stores the record of a new session r.ID, to expire after ttl
// (PX; ttl <= 0: never). With max > 0 it also admits the session into
// the live set with a script (expired members dropped, then refused with
// [sessions.ErrTooManySessions] if max are live), in the same round trip
// (pipelined EVAL and SET: two slots on a cluster); a refused or failed
// create takes back the record and the admission (one more round trip).
// I/O errors wrap [sessions.ErrStoreUnavailable].
func (s *Store) Create(ctx context.Context, r *mcp.SessionRecord, ttl time.Duration, max int) error {
	s.ops.Add(1)
	val, err := encode(r)
	if err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	set := s.c.B().Set().Key(s.recordKey(r.ID)).Value(val)
	var setCmd rueidis.Completed
	if ttl > 0 {
		setCmd = set.PxMilliseconds(ms(ttl)).Build()
	} else {
		setCmd = set.Build()
	}
	if max <= 0 {
		if err := s.c.Do(ctx, setCmd).Error(); err != nil {
			return s.fail("create", err)
		}
		return nil
	}
	// The admission and the record in one round trip (pipelined; two
	// slots on a cluster): a refused session's record is deleted after.
	s.capped.Store(true)
	now := time.Now()
	admit := s.c.B().Eval().Script(createScript).Numkeys(1).Key(s.liveKey).Arg(
		strconv.FormatInt(now.UnixMilli(), 10), strconv.Itoa(max),
		strconv.FormatFloat(expiryScore(now, ttl), 'f', -1, 64), r.ID).Build()
	res := s.c.DoMulti(ctx, admit, setCmd)
	ok, err := res[0].AsInt64()
	if err == nil {
		err = res[1].Error()
	}
	if err != nil || ok == 0 {
		// Refused, or either failed: take back what the other did.
		_ = s.c.DoMulti(ctx,
			s.c.B().Del().Key(s.recordKey(r.ID)).Build(),
			s.c.B().Zrem().Key(s.liveKey).Member(r.ID).Build())
		if err != nil {
			return s.fail("create", err)
		}
		return sessions.ErrTooManySessions
	}
	return nil
}

// Load returns the record of session id (GET), or [sessions.ErrNotFound].
// I/O errors wrap [sessions.ErrStoreUnavailable]; a record that does not
// decode (another [mcp.RecordVersion], say) fails with the decoding error.
func (s *Store) Load(ctx context.Context, id string) (*mcp.SessionRecord, error) {
	s.ops.Add(1)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	b, err := s.c.Do(ctx, s.c.B().Get().Key(s.recordKey(id)).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, sessions.ErrNotFound
	}
	if err != nil {
		return nil, s.fail("load", err)
	}
	r := new(mcp.SessionRecord)
	if err := r.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("redisstore: record of %s: %w", id, err)
	}
	if r.ID == "" {
		r.ID = id
	}
	return r, nil
}

// Save replaces the record of the live session r.ID (SET XX KEEPTTL: its
// expiry is Touch's) and, with announce, publishes a change event for the
// other nodes ([Store.Watch]); one round trip (pipelined). It fails with
// [sessions.ErrNotFound] if the session is gone; I/O errors wrap
// [sessions.ErrStoreUnavailable].
func (s *Store) Save(ctx context.Context, r *mcp.SessionRecord, announce bool) error {
	s.ops.Add(1)
	val, err := encode(r)
	if err != nil {
		return err
	}
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	cmds := make(rueidis.Commands, 0, 2)
	cmds = append(cmds, s.c.B().Set().Key(s.recordKey(r.ID)).Value(val).Xx().Keepttl().Build())
	if announce {
		cmds = append(cmds, s.publish('c', r.ID))
	}
	res := s.c.DoMulti(ctx, cmds...)
	if err := res[0].Error(); rueidis.IsRedisNil(err) {
		return sessions.ErrNotFound
	} else if err != nil {
		return s.fail("save", err)
	}
	for _, r := range res[1:] {
		if err := r.Error(); err != nil {
			return s.fail("save", err)
		}
	}
	return nil
}

// Touch postpones the expiry of ids to ttl from now: one pipelined round
// trip of a PEXPIRE per ID (and one ZADD XX of the new expiries if the
// live set is in use); ttl <= 0 only checks that they exist. It returns
// the IDs whose record is gone (PEXPIRE answered 0), after removing them
// from the live set (one more round trip, if any is gone). On an I/O
// error it returns no IDs and an error wrapping
// [sessions.ErrStoreUnavailable].
func (s *Store) Touch(ctx context.Context, ids []string, ttl time.Duration) (gone []string, err error) {
	if len(ids) == 0 {
		return nil, nil
	}
	s.ops.Add(1)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	capped := s.capped.Load() && ttl > 0
	cmds := make(rueidis.Commands, 0, len(ids)+1)
	for _, id := range ids {
		if ttl > 0 {
			cmds = append(cmds, s.c.B().Pexpire().Key(s.recordKey(id)).Milliseconds(ms(ttl)).Build())
		} else {
			cmds = append(cmds, s.c.B().Exists().Key(s.recordKey(id)).Build())
		}
	}
	if capped {
		score := expiryScore(time.Now(), ttl)
		z := s.c.B().Zadd().Key(s.liveKey).Xx().ScoreMember()
		for _, id := range ids {
			z = z.ScoreMember(score, id)
		}
		cmds = append(cmds, z.Build())
	}
	res := s.c.DoMulti(ctx, cmds...)
	for i, id := range ids {
		n, err := res[i].AsInt64()
		if err != nil {
			return nil, s.fail("touch", err)
		}
		if n == 0 {
			gone = append(gone, id)
		}
	}
	if capped {
		if err := res[len(ids)].Error(); err != nil {
			return nil, s.fail("touch", err)
		}
	}
	if capped && len(gone) > 0 {
		if err := s.c.Do(ctx, s.c.B().Zrem().Key(s.liveKey).Member(gone...).Build()).Error(); err != nil {
			return nil, s.fail("touch", err)
		}
	}
	return gone, nil
}

// Delete ends session id everywhere: DEL of its record, ZREM from the
// live set if that is in use, and an end event; one round trip
// (pipelined). It then waits, at most ackWait, until every other node
// subscribed to the events has dropped its copy (acks.go). Deleting a
// missing session is not an error. I/O errors wrap
// [sessions.ErrStoreUnavailable].
func (s *Store) Delete(ctx context.Context, id string) error {
	s.ops.Add(1)
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	cmds := make(rueidis.Commands, 0, 3)
	cmds = append(cmds, s.c.B().Del().Key(s.recordKey(id)).Build())
	if s.capped.Load() {
		cmds = append(cmds, s.c.B().Zrem().Key(s.liveKey).Member(id).Build())
	}
	cmds = append(cmds, s.publish('d', id))
	ch := s.acks.expect(id)
	defer s.acks.done(id)
	res := s.c.DoMulti(ctx, cmds...)
	for _, r := range res {
		if err := r.Error(); err != nil {
			return s.fail("delete", err)
		}
	}
	if got, err := res[len(res)-1].AsInt64(); err == nil { // the nodes subscribed, this one too
		awaitAcks(ctx, ch, got-1)
	}
	return nil
}

// publish returns the command that publishes an event of kind 'c'
// (changed) or 'd' (ended) for session id: "<kind> <node> <id>" on the
// events channel, with SPUBLISH on a cluster (the channel's shard only,
// in order) and PUBLISH otherwise.
func (s *Store) publish(kind byte, id string) rueidis.Completed {
	return s.publishMsg(string(kind) + " " + s.node + " " + id)
}

// publishMsg returns the command that publishes msg on the events
// channel: SPUBLISH on a cluster (the channel's shard only, in order),
// PUBLISH otherwise. Every event of the package goes through it.
func (s *Store) publishMsg(msg string) rueidis.Completed {
	if s.cluster {
		return s.c.B().Spublish().Channel(s.events).Message(msg).Build()
	}
	return s.c.B().Publish().Channel(s.events).Message(msg).Build()
}

// Watch sets f to be called, on the subscriber goroutine, for every event
// of another node: ended false for a Save, true for a Delete. Expiry is
// not reported (Touch reports it). Events published while the subscriber
// was disconnected from Redis are lost. f must not block; Watch(nil)
// stops the calls.
func (s *Store) Watch(f func(id string, ended bool)) {
	if f == nil {
		s.watch.Store(nil)
		return
	}
	s.watch.Store(&f)
}

// onMessage handles one event: it drops this node's own and malformed
// ones, and calls the Watch function with the others.
func (s *Store) onMessage(m rueidis.PubSubMessage) {
	p := m.Message
	if len(p) > 0 {
		switch p[0] {
		case 'r':
			s.onRelay(p)
			return
		case 'q', 'a':
			s.onCallEvent(p)
			return
		case 's':
			s.onStandalone(p)
			return
		case 'k':
			s.onAck(p)
			return
		}
	}
	if len(p) != 1+1+len(s.node)+1+IDLen || p[1] != ' ' || p[2+len(s.node)] != ' ' {
		return
	}
	if p[2:2+len(s.node)] == s.node {
		return
	}
	id := p[len(p)-IDLen:]
	if !s.ValidID(id) {
		return
	}
	var ended bool
	switch p[0] {
	case 'c':
	case 'd':
		ended = true
	default:
		return
	}
	if f := s.watch.Load(); f != nil {
		(*f)(id, ended)
	}
	if ended {
		s.ack(p[2:2+len(s.node)], id) // its copy is gone: the deleting node may answer
	}
}
