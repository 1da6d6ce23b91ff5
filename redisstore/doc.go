// Package redisstore is the [sessions.Store] on Redis: session records
// shared by every mcpfiber process (node) pointed at the same Redis, so
// that any node serves any session (issue #10). A single server and a
// Redis Cluster both work; [New] connects and tells them apart by itself.
//
// # Client
//
// The client is github.com/redis/rueidis, chosen by measurement against
// github.com/redis/go-redis/v9 (bench/redis_test.go; figures and command
// in bench/RESULTS.md, "Redis clients (#10)"). With 16 goroutines sending
// GETs at once, which is how a server under load uses its store, a GET
// takes rueidis 0.64× the time of go-redis, in every pass: its
// auto-pipelining writes the commands of concurrent callers to one
// connection in batches, where go-redis takes a pooled connection per
// command. It allocates once per command where go-redis allocates 7 to 8
// times, and a pipeline of 100 PEXPIREs costs it 104 allocations against
// 417. One caller alone, one command at a time, is within the noise of
// the shared machine on either client (the hand-over to rueidis's writer
// goroutine costs about what the pooled connection saves). Its
// client-side caching is off: the session map is the cache. Its retries
// are off too, so that an operation on a dead Redis fails at once rather
// than at its deadline.
//
// # Keys
//
// With the prefix P ([Options.Prefix], default "mcpfiber:"):
//
//   - P + "s:{" + id + "}": the session's record, the JSON of
//     [mcp.SessionRecord.MarshalBinary] without the ID (the key holds it),
//     with a PX TTL of the session's idle timeout, which Touch moves.
//     About 440 bytes of Redis memory per idle session for a typical
//     record (MEMORY USAGE; the test TestMemoryPerSession keeps it within
//     512 bytes).
//   - P + "live": a sorted set of the live session IDs scored by their
//     expiry in unix milliseconds (+inf: never), for the cluster-wide cap
//     (max > 0 in Create). A script on that one key drops the expired
//     members, counts, and admits or refuses; Touch and Save move the
//     scores (ZADD XX), Delete and Touch remove what is gone. It costs
//     about 150 bytes per session more. Without a cap it is not used: a
//     node starts to keep it up once it sees the key at New, or its first
//     Create with max > 0.
//   - P + "secret": 32 random bytes that the first node stores (SET NX)
//     and every node reads at New. HKDF-SHA256 derives from it the key of
//     the session IDs' tags (AES-128) and [Store.StateKey], which seals
//     the 2026-07-28 requestState; nodes need no other shared setting.
//     The pinger stores it again (SET NX) every ping, so after Redis lost
//     its data (a restart without persistence) nodes started later agree
//     with those running.
//   - P + "nodes": the counter that numbers the nodes: each Store takes
//     the next number at New (INCR; [Store.Node]).
//   - P + "node:" + n: the liveness key of node n, which the pinger sets
//     every ping with a PX of three pings (at least 3 s) and Close deletes
//     ([Store.NodeAlive]).
//   - P + "e:{" + id + "}:" + stream: the event log of a stream of session
//     id, a Redis Stream (see "# Event logs").
//   - P + "g:{" + id + "}": the number of the node holding session id's
//     GET stream ([Store.ClaimGET]), renewed by its pinger (only while it
//     holds this node's number), expiring three pings after its node
//     stops, and taken over at once by another node that finds its
//     holder gone ([Store.NodeGone], [Store.StealGET]).
//   - "{" + P + "events}:n:" + n: node n's channel; its subscriber
//     listens on it, so that Redis tells whether node n's process is
//     still there (PUBSUB NUMSUB), at once after a SIGKILL where its
//     liveness key lasts three pings. Nothing is published on it.
//   - P + "events": the channel of every event between the nodes, each
//     "<kind> <node> …", <node> 16 hex digits random to each Store
//     ([Store.NodeID]), so that a node ignores its own: "c" (Save) and
//     "d" (Delete) for [Store.Watch], "k" a node's acknowledgement of a
//     "d" (Delete waits for them), "r" a client's message relayed to the
//     other nodes ([Store.Relay]), "s" a message for the GET stream of
//     the node holding it ([Store.RelayStandalone]), "q" and "a" a call
//     to one node and its answer ([Store.Call]).
//   - P + "b": the broadcast log, a Redis Stream of the notifications for
//     every node's clients ([Store.Broadcast]), one field p each, which
//     every node reads in order; bounded by XADD MAXLEN ~
//     [Options.BroadcastLogLen] (default 100 000 entries: over five
//     minutes at 300 broadcasts a second), no TTL. See broadcast.go for
//     the failure policy.
//
// Messages for one node that need no replay go by pub/sub; what must be
// replayed or kept in order (events, broadcasts) goes in Redis Streams,
// which cost more per message (BenchmarkRouting; bench/RESULTS.md).
//
// A session ID is 48 lowercase hex digits: 16 random bytes and an 8-byte
// tag, the first half of their AES-128 encryption under the derived key (a
// pseudo-random function on one block). [Store.ValidID] checks length,
// alphabet and tag with no I/O and no allocation, so a forged or garbage
// ID is answered 404 without a Redis command; a forger guesses a 64-bit
// tag.
//
// # Event logs
//
// [Store] is a [sessions.EventStore]: a node appends the events of the
// streams it writes to a Redis Stream per stream, so that another node
// can replay them after a Last-Event-ID and follow the stream until its
// end. The entry IDs are the events' sequence numbers: event seq is
// entry <seq>-1 with one field, d, its data; the end of a stream whose
// last event is last is entry <last>-2 with field f. So a reader after
// event n reads XRANGE key (<n>-1 + COUNT 256, which takes the end
// <n>-2 too, and the IDs need no index beside the stream. XADD trims with
// MAXLEN ~ (whole macro nodes of 100 entries: a stream keeps between
// maxLen and maxLen + 100 events), and a PEXPIRE after each batch moves
// the key's expiry to the session's idle timeout.
//
// AppendEvent and FinishStream do no I/O: they queue (at most
// [Options.EventQueue] items and 64 MiB of data, past which they drop and
// count in [Health].EventsDropped), and the writer goroutine sends
// everything queued in one DoMulti (up to 1024 commands each): one XADD
// per event, one PEXPIRE per key. One writer keeps the appends of a
// stream in order. A batch Redis could not be reached to take (down,
// restarting, a failover) is sent again after a PingInterval, until
// Close, ahead of what was queued since (counted in
// [Health].EventsRetried; the queue's bounds still hold): otherwise a
// stream's end lost in a blip would leave the nodes following it waiting
// as long as its writer lives. A batch Redis refuses with an error reply
// is dropped; either counts in [Health].Errors.
//
// A ReadEvents that finds nothing and may wait sends XREAD BLOCK, which
// rueidis routes to its pool of dedicated connections (BlockingPoolSize,
// 1024 by default), never the shared pipeline: each reader waiting holds
// one connection for up to its wait.
//
// A node is alive while its liveness key exists: the pinger sets it, so
// it expires three pings after the node's last (SIGKILL, a partition),
// and Close deletes it.
//
// # Redis Cluster
//
// Each record key and event log carries its session ID as a hash tag, so
// they spread over the masters and every command on one session goes to
// one slot. The
// live set, the secret and the events channel each live on one slot: the
// cap's script touches only the live set, and Create stores the record
// with a second command. On a cluster the events go through sharded
// pub/sub (SPUBLISH, SSUBSCRIBE; Redis 7.0 or later), on the channel's
// shard only and in order, where PUBLISH would be broadcast over the
// cluster bus to every node.
//
// # Failures
//
// Every operation runs within its context's deadline, or [Options.Timeout]
// (default 1 s) when that is earlier or there is none. Any I/O error, a
// timeout or an error reply returns an error wrapping
// [sessions.ErrStoreUnavailable] (and the cause) and counts in
// [Health].Errors; nothing panics. With Redis down, operations fail as
// soon as the connection is refused, or at their timeout for a Redis that
// does not answer. Nothing needs restarting when Redis comes back: the
// client reconnects on the next command, the pinger marks the store up
// and stores the secret again, and the subscriber subscribes again.
// Events published while a node was not subscribed are lost to it; the
// Map's next Touch reports the sessions ended meanwhile as gone. Expiry
// is not published (Touch reports it). A Redis restarted without
// persistence comes back empty: its sessions are gone (404, and the
// clients start new ones).
//
// # Goroutines
//
// A Store runs five long-lived goroutines, started by New and ended by
// [Store.Close], which waits for them:
//
//   - the pinger: every [Options.PingInterval] (default 1 s), SET NX of
//     the secret and SET of the node's liveness key in one round trip,
//     for [Store.Health] and [Store.NodeAlive];
//   - the subscriber: receives the events channel (and listens on the
//     node's channel) and calls the Watch function for other nodes'
//     events; it subscribes again whenever the subscription ends, at
//     once after one that lasted a PingInterval, after a PingInterval
//     otherwise; New returns once it listens;
//   - the writer: sends the queued events (see "# Event logs"); at Close
//     it sends what is queued, within [Options.Timeout], and exits;
//   - the broadcaster: adds the queued broadcasts to the broadcast log,
//     in order, in one pipeline per batch; at Close it drops what is
//     queued (counted);
//   - the consumer: reads the broadcast log (XREAD BLOCK of at most
//     max(PingInterval, 1 s), on a connection of rueidis's blocking pool)
//     and calls the OnBroadcast function with each entry in order;
//     Close cancels its read.
//
// And short-lived ones, each ending within Options.Timeout: an answer to
// another node's call, an acknowledgement (their PUBLISH must not hold
// up the subscriber); Close waits for them too. The pinger also renews
// this node's GET stream claims.
//
// rueidis runs its own goroutines per connection (writer, reader), which
// end when Close closes the client.
package redisstore
