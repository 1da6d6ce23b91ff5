// Package load drives MCP Streamable HTTP servers for the loadtest command
// and for the benchmarks in bench/: a small client that speaks the 2025
// session revisions (initialize, tools/call, DELETE, GET streams) and the
// 2026-07-28 stateless one, open- and closed-loop runners that record
// latency in HdrHistograms without coordinated omission, a reconnect
// storm, and resource sampling of a server process.
//
// # Overview
//
//	Loop + Op ──▶ Run ──▶ Recorder (HdrHistogram, 1s windows) ──▶ Result
//	Storm: establish N ─▶ lose them all (DELETE or restart) ─▶ N stale requests at once ─▶ recovery
//	Hold:  K sessions ─▶ K GET streams held open ─▶ events counted
//	Fleet: N sessions over several nodes call while the nodes restart (rolling) or one is killed
//	GetKill: K GET streams over several nodes get numbered broadcasts; one node is killed;
//	       the streams resume elsewhere with Last-Event-ID; each is checked: every broadcast once, in order
//
// # Client
//
// Request/response exchanges go through a fasthttp HostClient: it reuses
// its request and response objects and allocates nothing per request, so
// on a small machine the generator takes as little CPU as possible from
// the server it measures. GET streams, which never end, are read with
// net/http's response parser over a connection of their own.
package load
