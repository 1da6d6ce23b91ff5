// Package sessions keeps the live MCP sessions of a Streamable HTTP server:
// a lock-free session map, session IDs, idle expiry, a cap on live sessions,
// and each session's streams with their bounded event logs.
//
// # Overview
//
//	transport.Handler ──Lookup(id)──▶ Map ──▶ *Session ──▶ *Stream (0: the GET stream,
//	                                                          1..n: POST streams)
//
// A session starts at initialize ([Map.Create]) and ends on DELETE, idle
// expiry, server shutdown, or [Session.End] (2025-11-25 basic/transports
// §Session Management). An ended session is gone from the map at once, so
// the next request that names it gets 404.
//
// # The map
//
// [Map] is an xsync.MapOf: lock-free reads; writes lock one bucket. A lookup
// for an unknown ID costs a length and alphabet check and, if the ID is well
// formed, one hash probe, with no allocation ([Map.Lookup];
// TestLookupAllocs enforces it). IDs are 32 lowercase hex digits holding 128
// bits from crypto/rand ([NewID]), so an ID of another shape is rejected
// before the map is touched.
//
// # Expiry and caps
//
// One sweeper goroutine, owned by the Map and stopped by [Map.Close], ends
// sessions idle for longer than [Options.IdleTimeout] (default 30 min). A
// session is busy, never idle, while a request is in flight or a stream
// writer is attached ([Session.Hold]). [Options.MaxSessions] (default
// 100 000) caps live sessions: past it [Map.Create] fails with
// [ErrTooManySessions] and existing sessions keep working.
//
// # Streams and event IDs
//
// A [Stream] is an ordered log of SSE events for one response stream, with
// per-stream sequence numbers. Event IDs are "<stream>_<seq>" in decimal
// ([AppendEventID], [ParseEventID]; a GET stream's events add
// "_<ms>-<n>", its broadcast [Cursor], when the node delivers broadcasts
// from a [BroadcastLog]: [AppendEventIDCursor]), unique across the streams of a session
// and naming the stream they came from (2025-11-25 basic/transports
// §Resumability and Redelivery), so a Last-Event-ID replays that stream and
// only that stream. With an [EventStore] the stream part names the node
// too ([Stream.EventStreamID]): POST streams are Node()<<32 + n, the GET
// stream Node()<<32. A stream keeps at most [Options.MaxEventsPerStream]
// events and [Options.MaxStreamEventBytes] bytes of event data (its newest
// event always), and a session's streams together
// [Options.MaxSessionEventBytes]; the oldest events go first, and
// appending never blocks on a slow client.
//
// # Session stores
//
// With [Options.Store] (package redisstore: Redis), sessions outlive the
// process that started them and every node sharing the store serves
// every session. The map becomes this node's cache of the sessions used
// here:
//
//   - [Map.Create] stores the record first; MaxSessions is then a cap
//     across the nodes (the store's), and IDs come from the store
//     ([Store.NewID]: every node accepts every node's IDs, and a forged
//     one fails [Store.ValidID] without I/O).
//   - [Map.Resolve] serves a session held here without asking the store
//     while it is fresh: used within IdleTimeout and not changed by
//     another node since (the store's Watch marks it stale). Otherwise it
//     asks the store once and rebuilds the session here with
//     [Options.Restore]. An ID the store said is gone is remembered
//     ([Options.DeadIDs]), so a storm of stale IDs costs one lookup per
//     ID.
//   - Idle expiry is the store's (a TTL of IdleTimeout): one flusher
//     goroutine, owned by the Map and stopped by Close, postpones it for
//     the sessions used here, once per IdleTimeout/10 (10 ms to 30 s)
//     however many requests they had, saves records whose state changed
//     where a request did not ([Session.Release] does it at once,
//     announcing to the other nodes only the changes they must learn at
//     once: log level, subscriptions), and retries deletes that failed. A
//     session idle here is dropped from the cache ([EndEvicted]) and
//     lives on in the store.
//   - DELETE ([EndDelete]) deletes the record before it returns, and the
//     store tells the other nodes, which end their copy ([EndGone]); so
//     does an expiry the flusher finds.
//   - When the store cannot be reached, sessions held here keep working;
//     Create, and Resolve of a session not held here, fail with
//     [ErrStoreUnavailable] (the transport answers 503 with Retry-After:
//     the session may be alive); saves, touches and deletes are retried
//     by the flusher; nothing needs restarting when the store returns.
//   - [Map.Close] postpones the expiry of the sessions held here and ends
//     them here only: their clients go on on other nodes. Sessions no
//     other node can serve (no Options.Restore: the stdio bridge, the Go
//     SDK host) are deleted from the store instead.
//   - With an [EventStore], a POST stream's events are also the store's,
//     and [Session.ResumeStream] resumes another node's stream from them
//     (a mirror, followed until the stream ends or its writer's node is
//     gone: mirror.go); POST stream IDs, and the GET stream's event IDs,
//     carry the node's number. The GET stream's events go to the store
//     too: with a [GETClaims] store the transport keeps one GET stream
//     per session over the nodes, and a GET with another node's
//     Last-Event-ID takes that stream over ([Session.TakeOverGET]).
//
// # Locks
//
// Lock order: Map bucket (inside xsync) → Session.mu → Stream.mu. No lock is
// held while calling out of the package. A [BroadcastLog]'s delivery lock
// (OnBroadcast, PauseBroadcasts) comes before all of them: a delivery
// appends to streams.
package sessions
