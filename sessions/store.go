package sessions

import (
	"context"
	"errors"
	"time"

	"github.com/mcpfiber/mcpfiber/mcp"
)

// A Store keeps session records outside the process, so that every
// process (node) sharing it serves every session: a request may land on
// any node, and a node may die without its clients noticing. The Map keeps
// the sessions used on this node in memory and asks the store only for
// what it does not hold (see [Options.Store]); package redisstore is the
// implementation on Redis.
//
// Every method is safe for concurrent use. Methods that take a context do
// I/O and must return within its deadline; one that cannot reach the store
// returns an error wrapping [ErrStoreUnavailable].
type Store interface {
	// NewID returns a new session ID that every node sharing the store
	// accepts in ValidID: visible ASCII (2025-11-25 basic/transports
	// §Session Management), unguessable.
	NewID() string
	// ValidID reports whether id could have been issued by a node of this
	// store: its shape and, if the scheme has one, an authenticity check
	// over it. It is on the 404 path: it does no I/O, neither retains id
	// nor allocates.
	ValidID(id string) bool

	// Create stores the record of a new session, to expire after ttl
	// without a Touch (ttl <= 0: never). With max > 0 it fails with
	// ErrTooManySessions when max sessions are live across the nodes.
	Create(ctx context.Context, r *mcp.SessionRecord, ttl time.Duration, max int) error
	// Load returns the record of a live session, or ErrNotFound.
	Load(ctx context.Context, id string) (*mcp.SessionRecord, error)
	// Save replaces the record of a live session whose state changed
	// (initialized, log level, subscriptions), keeping its expiry, and
	// with announce tells the other nodes (Watch, ended false), which
	// reload it. It fails with ErrNotFound if the session is gone.
	Save(ctx context.Context, r *mcp.SessionRecord, announce bool) error
	// Touch postpones the expiry of the given sessions to ttl from now,
	// in as few round trips as the store allows, and returns those that
	// are gone (ended or expired). The Map calls it with every session
	// used on this node since the last call, a few times per ttl.
	Touch(ctx context.Context, ids []string, ttl time.Duration) (gone []string, err error)
	// Delete ends a session everywhere: the record goes, and the other
	// nodes are told (Watch, ended true). Deleting a missing session is
	// not an error.
	Delete(ctx context.Context, id string) error
	// Watch sets f to be called for every session another node changed
	// (ended false: Save) or ended (ended true: Delete, expiry where the
	// store can tell). f runs on the store's own goroutine and must not
	// block; the Map calls Watch once, before it uses the store.
	Watch(f func(id string, ended bool))
}

// A Relay is a [Store] that also carries a client's messages between the
// nodes serving one session: a response to a request another node sent
// the client (sampling, elicitation, roots), a notifications/cancelled
// for a request running on another node. The transport relays what
// matches nothing on the node it landed on (mcp.SessionState.SetRelay),
// and passes what other nodes relay to the session held here.
type Relay interface {
	// Relay sends msg, a JSON-RPC message of session id, to the other
	// nodes, at most once each; one round trip to the store at most.
	Relay(ctx context.Context, id string, msg []byte) error
	// OnRelay sets f to be called with every message another node
	// relayed. f runs on the store's own goroutine and must not block;
	// the transport calls OnRelay once, before it uses the store.
	OnRelay(f func(id string, msg []byte))
}

// An EventStore is a [Store] that also keeps the event logs of the
// sessions' streams, so that a stream broken on one node resumes on
// another with Last-Event-ID (2025-11-25 basic/transports §Resumability
// and Redelivery): the node that writes a stream appends its events here
// as well as to its own log, and a node asked to resume a stream it does
// not hold reads them back and follows the stream until it ends.
//
// Stream IDs carry the number of the node that made them in their high
// 32 bits ([EventStore.Node]), so that streams made on different nodes of
// one session never share an ID (the GET stream is 0 on every node, and
// its event IDs carry Node()<<32: see [Stream.EventStreamID]).
type EventStore interface {
	// Node returns this node's number: never 0, unique among the nodes
	// sharing the store while they live.
	Node() uint32
	// AppendEvent queues event seq of stream (of session id) for the
	// shared log, with its broadcast cursor cur (zero: none; see
	// [BroadcastLog]), to expire ttl after the last append (ttl <= 0:
	// never), keeping about maxLen events. It never blocks and takes
	// ownership of data: past a bound on what waits to be written it
	// drops the event (counted), and a resumption on another node then
	// starts after a gap, as when the log's own bounds drop events.
	AppendEvent(id string, stream, seq uint64, data []byte, cur Cursor, ttl time.Duration, maxLen int)
	// FinishStream queues the end of stream after its event last: a
	// node following the stream stops there.
	FinishStream(id string, stream, last uint64, ttl time.Duration)
	// ReadEvents returns the events of stream after seq after, in order
	// (with their cursors), at most 256; with none and wait > 0 it waits up to wait for one.
	// finished reports that the stream's end was read (after the events
	// returned). A stream the store has no events of returns none,
	// finished false.
	ReadEvents(ctx context.Context, id string, stream, after uint64, wait time.Duration) (evs []Event, finished bool, err error)
	// NodeAlive reports whether the node numbered node is alive: it
	// showed itself to the store within a few seconds.
	NodeAlive(ctx context.Context, node uint32) (bool, error)
}

// A GETClaims is a [Store] that keeps the rule of one GET stream per
// session across the nodes (2025-11-25 basic/transports §Listening for
// Messages from the Server: a second gets 409): the node that opens a
// session's GET stream claims it, and the claim of a node that dies
// expires within seconds.
type GETClaims interface {
	// ClaimGET makes this node the holder of session id's GET stream,
	// unless another node holds it: ok false.
	ClaimGET(ctx context.Context, id string) (ok bool, err error)
	// ReleaseGET gives up this node's claim, if it holds it.
	ReleaseGET(ctx context.Context, id string)
	// GETHolder returns the number of the node holding the claim
	// (EventStore.Node), 0 for none.
	GETHolder(ctx context.Context, id string) (uint32, error)
	// RelayStandalone sends msg, a message for session id's GET stream,
	// to the node holding it.
	RelayStandalone(ctx context.Context, node uint32, id string, msg []byte) error
	// OnStandalone sets f to take what other nodes relay to this node's
	// GET streams. f must not block.
	OnStandalone(f func(id string, msg []byte))
	// NodeGone reports whether the process of node is gone (killed,
	// crashed), as the store can tell at once, before its claims
	// expire. A live node may rarely look gone (its link to the store
	// is being re-established): it then loses the claims others steal.
	NodeGone(ctx context.Context, node uint32) (bool, error)
	// StealGET takes session id's claim from node from, found gone,
	// unless another node holds it now: ok false.
	StealGET(ctx context.Context, id string, from uint32) (ok bool, err error)
	// OnLostGET sets f to be called with each session whose claim this
	// node held and another node took. f must not block.
	OnLostGET(f func(id string))
}

// Errors of a [Store] and of [Map.Resolve].
var (
	// ErrNotFound means the store holds no live session with that ID.
	ErrNotFound = errors.New("sessions: no such session")
	// ErrStoreUnavailable means the store could not be reached in time.
	// The transport answers 503 with Retry-After: the session may well
	// be alive, so the client must not start a new one.
	ErrStoreUnavailable = errors.New("sessions: session store unavailable")
)
