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
// ([AppendEventID], [ParseEventID]), unique across the streams of a session
// and naming the stream they came from (2025-11-25 basic/transports
// §Resumability and Redelivery), so a Last-Event-ID replays that stream and
// only that stream. A stream keeps at most [Options.MaxEventsPerStream]
// events and [Options.MaxStreamEventBytes] bytes of event data (its newest
// event always), and a session's streams together
// [Options.MaxSessionEventBytes]; the oldest events go first, and
// appending never blocks on a slow client.
//
// # Locks
//
// Lock order: Map bucket (inside xsync) → Session.mu → Stream.mu. No lock is
// held while calling out of the package.
package sessions
