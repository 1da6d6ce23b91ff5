package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// An Event is what a [Fleet] does to its nodes while its clients call.
type Event int

const (
	// EventRolling restarts the nodes one by one, as a rolling deploy
	// does: SIGTERM, wait for the exit, start again, wait until the node
	// is healthy ([ServerProcess.HealthURL]), then the next node.
	EventRolling Event = iota
	// EventKill kills one node (SIGKILL, a crash), leaves it down for
	// [Fleet.Steady], then starts it again and waits until it is healthy.
	EventKill
)

// String returns "rolling" or "kill".
func (e Event) String() string {
	if e == EventKill {
		return "kill"
	}
	return "rolling"
}

// A Fleet runs the scenarios of several nodes serving the same sessions
// (issue #10, "Benchmarks"): Clients sessions are established through
// Client, which spreads every request over the nodes round robin; then
// the clients call the echo tool at Rate (open loop) while Event happens
// to Nodes; then each client makes one final call.
//
//	establish ─▶ calls for Steady ─▶ the event (calls go on) ─▶ calls for Steady ─▶ one final call each
//
// A call whose session is gone (404) re-initializes (initialize +
// notifications/initialized) and calls again, up to MaxReinits times. A
// node that refuses the connection is skipped for the next, as a load
// balancer does (see [NewBalancedClient]); a call in flight on a node
// that is killed is lost and counted as such.
type Fleet struct {
	// Client sends the requests; its nodes are Nodes, in the same order.
	Client *Client
	// Nodes are the server processes, already started.
	Nodes []*ServerProcess
	Event Event
	// Victim is the node EventKill kills (an index into Nodes).
	Victim  int
	Clients int
	// Rate is the calls per second over all clients. Default: 1000.
	Rate float64
	// Concurrency bounds the calls in flight. Default: 16.
	Concurrency int
	// Steady is how long the calls run before the event and after it
	// (and, for EventKill, how long the killed node stays down).
	// Default: 1s.
	Steady time.Duration
	// MaxReinits bounds the re-initializations of one call: past it the
	// call fails. Default: 3.
	MaxReinits int
	// EstablishConcurrency bounds the handshakes in flight before the
	// calls. Default: 64.
	EstablishConcurrency int
	// Window is the width of the latency-over-time windows. Default: 1s.
	Window time.Duration
	// Accept is the Accept header of the tools/call. Default: AcceptBoth.
	Accept string
	// Progress, if set, is incremented after each call.
	Progress *atomic.Int64

	start time.Time
	id    atomic.Int64
	// Since start, in ns (0: not yet): the first signal, the last node
	// healthy again, the kill, and the end of the last call that was not
	// a clean success.
	eventAt, eventEnd, killAt, lastBad atomic.Int64

	reinits, notFound, failed, lost, failovers, unavailable atomic.Int64

	mu         sync.Mutex // guards the histograms and counters below
	eventHist  *hdrhistogram.Histogram
	firstHist  *hdrhistogram.Histogram // each client's first call due after the kill
	firstFails int64                   // those of them that failed
	finalOK    int
	finalFail  int
}

// A FleetResult is what a [Fleet] measured. Calls are tools/call
// operations (each with the re-initializations it needed); times are in
// milliseconds, latencies measured from when a call was due.
type FleetResult struct {
	Event       string  `json:"event"`
	Nodes       int     `json:"nodes"`
	Clients     int     `json:"clients"`
	Established int     `json:"established"`
	EstablishMs float64 `json:"establish_ms"`
	// Calls counts every call, the final ones included: Calls = OK +
	// Failed + Lost.
	Calls int64 `json:"calls"`
	OK    int64 `json:"ok"`
	// Reinits counts the initialize requests sent after a 404.
	Reinits int64 `json:"reinits"`
	// NotFound counts the 404s (to a tools/call or to
	// notifications/initialized).
	NotFound int64 `json:"not_found"`
	// Failed counts the calls that failed otherwise: 5xx, connection
	// errors when no node answered, timeouts, 404 past MaxReinits.
	Failed int64 `json:"failed"`
	// Lost counts the calls in flight on a node when it was signalled
	// that failed on their connection.
	Lost int64 `json:"lost_in_flight"`
	// Failovers counts the times a request went on to the next node
	// because its node refused the connection or answered 503;
	// Unavailable counts the 503s among them (a draining mcpfiber
	// answers 503 to a session it no longer holds: the client goes on
	// elsewhere).
	Failovers   int64 `json:"failovers"`
	Unavailable int64 `json:"unavailable"`
	// The latency of the calls due from the first signal until the last
	// node was healthy again.
	EventCalls int64   `json:"event_calls"`
	EventP50Ms float64 `json:"event_p50_ms"`
	EventP99Ms float64 `json:"event_p99_ms"`
	EventMaxMs float64 `json:"event_max_ms"`
	// RecoverMs runs from the first signal to the end of the last call
	// that was not a clean success (a 404, a re-initialization, a
	// failure, a loss); 0 if there was none.
	RecoverMs float64 `json:"recover_ms"`
	// EventKill: each client's first call due after the kill (the final
	// call for a client that had none before); the latencies are of all
	// of them, failed or not.
	FirstAfter       int64   `json:"first_after_kill,omitempty"`
	FirstAfterFailed int64   `json:"first_after_kill_failed,omitempty"`
	FirstAfterP50Ms  float64 `json:"first_after_kill_p50_ms,omitempty"`
	FirstAfterP99Ms  float64 `json:"first_after_kill_p99_ms,omitempty"`
	FirstAfterMaxMs  float64 `json:"first_after_kill_max_ms,omitempty"`
	// The final call of each established client.
	FinalOK     int `json:"final_ok"`
	FinalFailed int `json:"final_failed"`
	// Restarts are the nodes' stops and starts, in order.
	Restarts []NodeEvent `json:"restarts"`
	// Targets are those of issue #10 for this event, each met or not.
	Targets []Target `json:"targets"`
}

// A NodeEvent is one node's stop and start.
type NodeEvent struct {
	Node   int     `json:"node"`
	URL    string  `json:"url"`
	Signal string  `json:"signal"` // TERM or KILL
	AtS    float64 `json:"at_s"`   // the signal, in seconds since the calls started
	// ExitMs runs from the signal to the exit, DownMs from the exit to
	// the start again, ReadyMs from the start to the node healthy.
	ExitMs  float64 `json:"exit_ms"`
	DownMs  float64 `json:"down_ms"`
	ReadyMs float64 `json:"ready_ms"`
}

// A Target is a figure the run should reach.
type Target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
}

// Missed returns the targets that were not met.
func (r *FleetResult) Missed() []Target { return missed(r.Targets) }

// missed returns the targets of ts that were not met.
func missed(ts []Target) []Target {
	var m []Target
	for _, t := range ts {
		if !t.Met {
			m = append(m, t)
		}
	}
	return m
}

// fleetClient is one client's session.
type fleetClient struct {
	mu           sync.Mutex // guards the fields below; held for a whole call: one call at a time
	sid, version string
	afterKill    bool // a call due after the kill was measured
}

// Run establishes the sessions, runs the calls and the event, and returns
// what was measured: Result's counts, statuses, latency and windows are
// those of the paced calls (not the final ones), and Result.Fleet has the
// rest. It returns an error if no session could be established or a node
// could not be restarted (with what was measured up to then).
func (f *Fleet) Run(ctx context.Context) (Result, error) {
	if f.Clients <= 0 {
		return Result{}, errors.New("load: fleet needs at least one client")
	}
	if len(f.Nodes) != f.Client.Nodes() {
		return Result{}, fmt.Errorf("load: fleet: %d server processes for %d URLs", len(f.Nodes), f.Client.Nodes())
	}
	if f.Event == EventKill && (f.Victim < 0 || f.Victim >= len(f.Nodes)) {
		return Result{}, fmt.Errorf("load: fleet: no node %d to kill", f.Victim)
	}
	if f.Rate <= 0 {
		f.Rate = 1000
	}
	if f.Concurrency <= 0 {
		f.Concurrency = 16
	}
	if f.Steady <= 0 {
		f.Steady = time.Second
	}
	if f.MaxReinits <= 0 {
		f.MaxReinits = 3
	}
	if f.EstablishConcurrency <= 0 {
		f.EstablishConcurrency = 64
	}
	f.eventHist, f.firstHist = newHist(), newHist()
	fr := &FleetResult{Event: f.Event.String(), Nodes: len(f.Nodes), Clients: f.Clients}

	// 1. Establish. With nodes that do not share sessions, the
	// notifications/initialized may land on another node than the
	// initialize and get 404: the handshake is tried again.
	t0 := time.Now()
	clients := make([]*fleetClient, f.Clients)
	forEach(ctx, f.Clients, f.EstablishConcurrency, func(i int) {
		for range 20 {
			sid, version, failed := f.Client.Handshake(f.id.Add(1))
			if failed == nil {
				clients[i] = &fleetClient{sid: sid, version: version}
				return
			}
			if failed.Status != 404 {
				return
			}
		}
	})
	fr.EstablishMs = msSince(t0)
	var live []*fleetClient
	for _, c := range clients {
		if c != nil {
			live = append(live, c)
		}
	}
	fr.Established = len(live)
	if len(live) == 0 {
		return Result{Fleet: fr}, errors.Join(errors.New("load: fleet: no session could be established"), ctx.Err())
	}

	// 2. The calls, with the event in the middle.
	f.start = time.Now()
	interval := time.Duration(float64(time.Second) / f.Rate)
	until := make(chan struct{})
	op := func(_ context.Context, _ int, seq int64) (bool, string) {
		due := f.start.Add(time.Duration(seq) * interval)
		c := live[seq%int64(len(live))]
		c.mu.Lock()
		defer c.mu.Unlock()
		o := f.call(c)
		f.observe(c, due, time.Now(), o)
		return o.ok, o.status
	}
	ran := make(chan Result, 1)
	go func() { // owner: Run; exit: until is closed or ctx is done
		ran <- Run(ctx, Loop{Rate: f.Rate, Concurrency: f.Concurrency, Until: until, Start: f.start, Window: f.Window, Done: f.Progress}, op)
	}()
	var eventErr error
	if sleepCtx(ctx, f.Steady) {
		switch f.Event {
		case EventRolling:
			for i := range f.Nodes {
				ev, err := f.restart(ctx, i, syscall.SIGTERM, 0)
				fr.Restarts = append(fr.Restarts, ev)
				if err != nil {
					eventErr = err
					break
				}
			}
		case EventKill:
			ev, err := f.restart(ctx, f.Victim, syscall.SIGKILL, f.Steady)
			fr.Restarts = append(fr.Restarts, ev)
			eventErr = err
		}
		f.eventEnd.Store(int64(max(time.Since(f.start), 1)))
		if eventErr == nil {
			sleepCtx(ctx, f.Steady)
		}
	}
	close(until)
	res := <-ran

	// 3. One final call per client.
	if ctx.Err() == nil {
		forEach(ctx, len(live), f.Concurrency, func(i int) {
			c := live[i]
			c.mu.Lock()
			defer c.mu.Unlock()
			due := time.Now()
			o := f.call(c)
			f.observe(c, due, time.Now(), o)
			f.mu.Lock()
			if o.ok {
				f.finalOK++
			} else {
				f.finalFail++
			}
			f.mu.Unlock()
			if f.Progress != nil {
				f.Progress.Add(1)
			}
		})
	}

	f.mu.Lock()
	fr.FinalOK, fr.FinalFailed = f.finalOK, f.finalFail
	ev := SummaryOf(f.eventHist)
	fr.EventCalls, fr.EventP50Ms, fr.EventP99Ms, fr.EventMaxMs = ev.Count, ev.P50, ev.P99, ev.Max
	if f.Event == EventKill {
		first := SummaryOf(f.firstHist)
		fr.FirstAfter = first.Count
		fr.FirstAfterFailed = f.firstFails
		fr.FirstAfterP50Ms, fr.FirstAfterP99Ms, fr.FirstAfterMaxMs = first.P50, first.P99, first.Max
	}
	f.mu.Unlock()
	fr.Calls = res.Requests + int64(fr.FinalOK+fr.FinalFailed)
	fr.OK = res.OK + int64(fr.FinalOK)
	fr.Reinits, fr.NotFound, fr.Failed, fr.Lost = f.reinits.Load(), f.notFound.Load(), f.failed.Load(), f.lost.Load()
	fr.Failovers, fr.Unavailable = f.failovers.Load(), f.unavailable.Load()
	if at, bad := f.eventAt.Load(), f.lastBad.Load(); at > 0 && bad > at {
		fr.RecoverMs = Round3(float64(bad-at) / 1e6)
	}
	fr.Targets = targets(fr)
	res.Fleet = fr
	return res, errors.Join(eventErr, ctx.Err())
}

// restart stops node i with sig, waits for its exit, waits hold, starts
// it again and waits until it is healthy.
func (f *Fleet) restart(ctx context.Context, i int, sig syscall.Signal, hold time.Duration) (NodeEvent, error) {
	name := "TERM"
	if sig == syscall.SIGKILL {
		name = "KILL"
	}
	ev := NodeEvent{Node: i, URL: f.Client.NodeURL(i), Signal: name}
	at := time.Now()
	ev.AtS = Round3(at.Sub(f.start).Seconds())
	f.eventAt.CompareAndSwap(0, int64(max(at.Sub(f.start), 1)))
	if sig == syscall.SIGKILL {
		f.killAt.Store(int64(max(at.Sub(f.start), 1)))
	}
	f.Client.MarkDown(i)
	if err := f.Nodes[i].StopWith(sig); err != nil {
		return ev, err
	}
	ev.ExitMs = msSince(at)
	f.Client.CloseIdleConnectionsTo(i)
	down := time.Now()
	if !sleepCtx(ctx, hold) {
		return ev, ctx.Err()
	}
	up := time.Now()
	ev.DownMs = float64(up.Sub(down).Microseconds()) / 1e3
	err := f.Nodes[i].Start(ctx)
	ev.ReadyMs = msSince(up)
	if err != nil {
		return ev, fmt.Errorf("load: restarting node %d (%s): %w", i, ev.URL, err)
	}
	return ev, nil
}

// outcome is what one call came to.
type outcome struct {
	ok     bool
	clean  bool // ok at the first try on the session it had (failovers aside)
	status string
}

// call makes one tools/call for c, re-initializing after a 404 up to
// MaxReinits times. The caller holds c.mu.
func (f *Fleet) call(c *fleetClient) outcome {
	reinits, failovers := 0, 0
	note := func(r *Response) {
		failovers += r.Failovers
		f.unavailable.Add(int64(r.Unavailable))
	}
	for {
		if c.sid == "" { // the session is gone: start a new one
			if reinits == f.MaxReinits {
				f.failed.Add(1)
				return outcome{status: fmt.Sprintf("404: gave up after %d re-initializations", reinits)}
			}
			reinits++
			f.reinits.Add(1)
			r := f.Client.Initialize(f.id.Add(1))
			note(&r)
			if !r.OK() || r.SessionID == "" {
				return f.failure("initialize", &r, failovers)
			}
			sid, version := r.SessionID, r.Version
			if version == "" {
				version = f.Client.ProtocolVersion()
			}
			r = f.Client.Initialized(sid, version)
			note(&r)
			if r.Status == 404 {
				f.notFound.Add(1)
				continue
			}
			if !r.OK() {
				return f.failure("notifications/initialized", &r, failovers)
			}
			c.sid, c.version = sid, version
		}
		r := f.Client.Call(c.sid, c.version, f.id.Add(1), f.Accept)
		note(&r)
		switch {
		case r.OK() && r.Result:
			f.failovers.Add(int64(failovers))
			switch {
			case reinits > 0:
				return outcome{ok: true, status: "ok after 404 and re-initialization"}
			case failovers > 0:
				return outcome{ok: true, clean: true, status: "ok after failover"}
			}
			return outcome{ok: true, clean: true, status: "ok"}
		case r.Status == 404:
			f.notFound.Add(1)
			c.sid, c.version = "", ""
		default:
			return f.failure("tools/call", &r, failovers)
		}
	}
}

// failure counts a call that failed on r.
func (f *Fleet) failure(what string, r *Response, failovers int) outcome {
	f.failovers.Add(int64(failovers))
	if r.Lost {
		f.lost.Add(1)
		return outcome{status: "lost in flight"}
	}
	f.failed.Add(1)
	return outcome{status: what + " " + r.Key()}
}

// observe records a call of c that was due at due and ended at end. The
// caller holds c.mu.
func (f *Fleet) observe(c *fleetClient, due, end time.Time, o outcome) {
	d, e := int64(max(due.Sub(f.start), 1)), int64(end.Sub(f.start))
	if !o.clean {
		for {
			last := f.lastBad.Load()
			if e <= last || f.lastBad.CompareAndSwap(last, e) {
				break
			}
		}
	}
	us := min(max(end.Sub(due).Microseconds(), histMin), histMax)
	at, until, kill := f.eventAt.Load(), f.eventEnd.Load(), f.killAt.Load()
	first := kill > 0 && d >= kill && !c.afterKill
	if first {
		c.afterKill = true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if at > 0 && d >= at && (until == 0 || d <= until) {
		_ = f.eventHist.RecordValue(us)
	}
	if first {
		_ = f.firstHist.RecordValue(us)
		if !o.ok {
			f.firstFails++
		}
	}
}

// targets returns issue #10's targets for r's event: for a rolling
// restart, no re-initialization, no 404 and no failed call; for a kill,
// no re-initialization, every client's next call a success within 1 s at
// p99, and no call failed but those in flight on the killed node.
func targets(r *FleetResult) []Target {
	count := func(name string, got int64) Target {
		return Target{Name: name, Want: "0", Got: fmt.Sprint(got), Met: got == 0}
	}
	switch r.Event {
	case "kill":
		return []Target{
			count("re-initializations", r.Reinits),
			count("clients whose next call after the kill failed", r.FirstAfterFailed),
			{Name: "p99 of each client's next call after the kill", Want: "< 1000 ms", Got: fmt.Sprintf("%.1f ms", r.FirstAfterP99Ms),
				Met: r.FirstAfter > 0 && r.FirstAfterP99Ms < 1000},
			count("failed calls (other than lost in flight)", r.Failed),
		}
	default:
		return []Target{
			count("re-initializations", r.Reinits),
			count("404s", r.NotFound),
			count("failed calls (lost in flight included)", r.Failed+r.Lost),
		}
	}
}
