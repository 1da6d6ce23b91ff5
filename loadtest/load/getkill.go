package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/valyala/fasthttp"
)

// A GetKill runs issue #11's benchmark of GET streams over several nodes
// ("Benchmarks"): Streams sessions, each with its GET stream open on a
// node of its own (stream j on node j mod N, as a load balancer placed
// it), receive numbered broadcasts raised at Rate; after Warmup and
// Steady, node Victim is killed (SIGKILL) and the clients whose stream
// broke resume it on another node with Last-Event-ID; the broadcasts go
// on for Steady more, then each stream is checked: every broadcast from
// the first it saw to the last raised, exactly once, in order.
//
//	establish + logging/setLevel ─▶ open the GET streams ─▶ broadcasts: warm-up, steady ─▶ SIGKILL ─▶ steady ─▶ drain ─▶ check
//
// A broadcast is a tools/call of the broadcast tool (catalog "loadtest":
// mcp.Server.LogAll of {"seq": n}) sent to one node that is not killed,
// one at a time, so that the order of the broadcasts is the order of
// their numbers. With one node there is no kill: the run measures what
// one node delivers (the baseline of the cluster's figure).
//
// A client whose stream broke reconnects as a client behind a load
// balancer would: its GET, with the ID of the last event it got as
// Last-Event-ID, goes to the next node of the list; a refused connection
// goes on to the next at once, a 409 or 503 after a backoff (doubling
// from ResumeBackoff, up to 1 s), until ResumeTries attempts or
// ResumeWithin; any other status ends the stream (it counts as not
// resumed).
type GetKill struct {
	// Client sends the handshakes and logging/setLevel round robin; its
	// nodes are Nodes, in the same order.
	Client *Client
	// Nodes are the server processes, already started; with more than
	// one, Victim is killed. Nil: no process to kill (the nodes run
	// elsewhere), and no kill.
	Nodes []*ServerProcess
	// Victim is the node killed (an index into Nodes); -1: none, the
	// run measures the steady delivery only.
	Victim int
	// Streams is the number of sessions, each with its GET stream.
	// Default: 1000.
	Streams int
	// Rate is the broadcasts per second. Default: 50.
	Rate float64
	// Warmup is how long the broadcasts run before the steady window.
	// Default: 1s.
	Warmup time.Duration
	// Steady is the window in which the delivered events are counted,
	// before the kill, and how long the broadcasts go on after it.
	// Default: 5s.
	Steady time.Duration
	// Drain bounds the wait, after the last broadcast, for every stream
	// to get it. Default: 5s.
	Drain time.Duration
	// Concurrency bounds the handshakes and opens in flight. Default: 64.
	Concurrency int
	// ResumeTries and ResumeWithin bound a resumption; ResumeBackoff is
	// the first backoff after a 409 or 503. Defaults: 30, 15s, 50ms.
	ResumeTries   int
	ResumeWithin  time.Duration
	ResumeBackoff time.Duration
	// Window is the width of the broadcast latency windows. Default: 1s.
	Window time.Duration
	// Progress, if set, is incremented after each broadcast.
	Progress *atomic.Int64

	n      int // nodes
	source int // the node the broadcasts go to
	start  time.Time
	killAt atomic.Int64 // ns since start; 0: no kill yet
	// raised[n] is when broadcast n was sent, in ns since start (0: not
	// raised, or its call failed).
	raised   []atomic.Int64
	lastSeq  atomic.Int64 // the last broadcast raised (its call succeeded)
	failedBr atomic.Int64 // broadcasts whose call failed

	hmu        sync.Mutex // guards the histograms below
	resumeHist *hdrhistogram.Histogram
	firstHist  *hdrhistogram.Histogram
	delayHist  *hdrhistogram.Histogram // delivery delay in the steady window
}

// A GetKillResult is what a [GetKill] measured. Times are in
// milliseconds.
type GetKillResult struct {
	Nodes   int `json:"nodes"`
	Streams int `json:"streams"`
	// Opened streams got 200 text/event-stream; the others are counted in
	// the Result's statuses.
	Opened      int     `json:"opened"`
	EstablishMs float64 `json:"establish_ms"`
	Victim      int     `json:"victim"` // -1: no kill
	// OnVictim is the number of streams open on the victim at the kill.
	OnVictim int     `json:"on_victim"`
	KillAtS  float64 `json:"kill_at_s,omitempty"`
	// Broadcasts raised (their call succeeded), and failed (their call
	// failed: they may or may not have been delivered, and are not
	// checked).
	Rate            float64 `json:"rate"`
	Broadcasts      int64   `json:"broadcasts"`
	BroadcastFailed int64   `json:"broadcasts_failed"`
	// The steady window, before the kill: the broadcasts raised in it and
	// the events all streams received in it, per second; Expected is
	// broadcasts × open streams. DelayP50/P99 are from the broadcast's
	// call to the event on a stream.
	SteadyS          float64 `json:"steady_s"`
	SteadyBroadcasts float64 `json:"steady_broadcasts_per_s"`
	SteadyEvents     float64 `json:"steady_events_per_s"`
	SteadyExpected   float64 `json:"steady_expected_per_s"`
	DelayP50Ms       float64 `json:"delay_p50_ms"`
	DelayP99Ms       float64 `json:"delay_p99_ms"`
	DelayMaxMs       float64 `json:"delay_max_ms"`
	// Events counts every event with a seq; Lost, Duplicated and
	// OutOfOrder are summed over the streams (see [SeqCheck]). The
	// Victim* ones are those of the streams that were on the victim.
	Events           int64 `json:"events"`
	Lost             int64 `json:"lost"`
	Duplicated       int64 `json:"duplicated"`
	OutOfOrder       int64 `json:"out_of_order"`
	StreamsWithLoss  int   `json:"streams_with_loss"`
	StreamsWithDup   int   `json:"streams_with_dup"`
	VictimLost       int64 `json:"victim_lost"`
	VictimDuplicated int64 `json:"victim_duplicated"`
	// Silent streams got no broadcast at all; Behind ones had not got the
	// last broadcast when the drain ended (their missing ones are lost).
	Silent int `json:"silent"`
	Behind int `json:"behind"`
	// FirstSeqMax is the highest first broadcast a stream saw (1: every
	// stream saw them all from the start).
	FirstSeqMax int64 `json:"first_seq_max"`
	// Breaks are the streams that ended (VictimBreaks: of those on the
	// victim); Resumed those that were resumed elsewhere, NotResumed
	// those that were not (see NotResumedStatus).
	Breaks       int `json:"breaks"`
	VictimBreaks int `json:"victim_breaks"`
	Resumed      int `json:"resumed"`
	NotResumed   int `json:"not_resumed"`
	// The resumptions' attempts: GETs sent, and their refusals.
	ResumeGETs     int64            `json:"resume_gets"`
	Conflicts      int64            `json:"resume_409"`
	Unavailable    int64            `json:"resume_503"`
	Refused        int64            `json:"resume_refused"`
	ResumeStatuses map[string]int64 `json:"resume_statuses,omitempty"`
	// Time to resume: from the break to the 200 of the GET that resumed
	// the stream, and to the first event after it.
	ResumeP50Ms     float64 `json:"resume_p50_ms"`
	ResumeP99Ms     float64 `json:"resume_p99_ms"`
	ResumeMaxMs     float64 `json:"resume_max_ms"`
	FirstEventP50Ms float64 `json:"first_event_p50_ms"`
	FirstEventP99Ms float64 `json:"first_event_p99_ms"`
	FirstEventMaxMs float64 `json:"first_event_max_ms"`
	// FirstEventMissed counts the resumptions after which no event came
	// (before the stream broke again, or the run ended).
	FirstEventMissed int `json:"first_event_missed,omitempty"`
	// PerNode are the checks' sums by the node each stream was opened on
	// (the broadcasts go to Source).
	Source  int         `json:"source"`
	PerNode []NodeCheck `json:"per_node"`
	// Example is the first resumed stream that lost, repeated or
	// reordered a broadcast, if any: what it received around the break.
	Example *ResumeExample `json:"example,omitempty"`
	// Targets are issue #11's.
	Targets []Target `json:"targets"`
}

// A NodeCheck sums the checks of the streams opened on one node.
type NodeCheck struct {
	Node       int   `json:"node"`
	Streams    int   `json:"streams"`
	Lost       int64 `json:"lost"`
	Duplicated int64 `json:"duplicated"`
	OutOfOrder int64 `json:"out_of_order"`
}

// A ResumeExample is what one stream received around its first break.
type ResumeExample struct {
	Stream int `json:"stream"`
	From   int `json:"from_node"`
	To     int `json:"to_node"`
	// MaxBefore is the highest broadcast received before the break;
	// After the first ones received after the resumption, in order.
	MaxBefore int64   `json:"max_before"`
	After     []int64 `json:"after"`
	Lost      int64   `json:"lost"`
	Dup       int64   `json:"duplicated"`
	OutOfOrd  int64   `json:"out_of_order"`
}

// Missed returns the targets that were not met.
func (r *GetKillResult) Missed() []Target { return missed(r.Targets) }

// A SeqCheck checks the numbers one stream receives against those
// raised, 1, 2, 3, …: each from the first it received to the last raised
// must come exactly once, in order. It is not safe for concurrent use.
type SeqCheck struct {
	seen     []uint64 // bit n: n was received
	first    int64    // the first number received (0: none yet)
	max      int64    // the highest number received
	received int64
	dup      int64 // numbers received again
	ooo      int64 // numbers received after a higher one (not again)
}

// Add records the receipt of n (≥ 1).
func (c *SeqCheck) Add(n int64) {
	if n < 1 {
		return
	}
	c.received++
	if c.first == 0 {
		c.first = n
	}
	w := int(n / 64)
	for w >= len(c.seen) {
		c.seen = append(c.seen, 0)
	}
	bit := uint64(1) << (n % 64)
	switch {
	case c.seen[w]&bit != 0:
		c.dup++
		return
	case n < c.max:
		c.ooo++
	}
	c.seen[w] |= bit
	c.max = max(c.max, n)
}

// Lost returns how many numbers from the first received to last, not
// counting those skip reports, were not received. skip may be nil.
func (c *SeqCheck) Lost(last int64, skip func(n int64) bool) int64 {
	if c.first == 0 {
		return 0
	}
	var lost int64
	for n := c.first; n <= last; n++ {
		w := int(n / 64)
		if (w >= len(c.seen) || c.seen[w]&(1<<(n%64)) == 0) && (skip == nil || !skip(n)) {
			lost++
		}
	}
	return lost
}

// First returns the first number received (0: none); Max the highest.
func (c *SeqCheck) First() int64 { return c.first }

// Max returns the highest number received (0: none).
func (c *SeqCheck) Max() int64 { return c.max }

// Received returns the numbers received, repeats included.
func (c *SeqCheck) Received() int64 { return c.received }

// Duplicated returns the numbers received more than once (each repeat
// counts).
func (c *SeqCheck) Duplicated() int64 { return c.dup }

// OutOfOrder returns the numbers received, for the first time, after a
// higher one.
func (c *SeqCheck) OutOfOrder() int64 { return c.ooo }

// gkStream is one client: its session and GET stream. Its reader
// goroutine owns every field but the atomics; Run reads them after the
// goroutine exited.
type gkStream struct {
	mu           sync.Mutex // guards node and st against Run; the reader reads them unlocked (it alone writes them)
	idx          int
	sid, version string
	node         int // the node its stream is on
	first        int // the node it was opened on
	st           *Stream
	lastID       []byte
	check        SeqCheck

	events  atomic.Int64 // events with a seq
	maxSeq  atomic.Int64 // check.Max, for the drain
	closing atomic.Bool  // Run closes the stream: its end is no break
	done    atomic.Bool  // the reader exited (the stream was not resumed, or Run closed it)

	breaks, victimBreaks, resumed int
	notResumed                    bool
	gets, conflicts, unavailable  int64
	refused                       int64
	statuses                      map[string]int64
	waitFirst                     time.Time // the break, until the first event after the resumption
	firstMissed                   bool
	// The first resumption, for the report: the node it went to, the
	// highest number received before the break, and the first numbers
	// received after it (up to sampleAfter).
	resumedOn   int
	maxBefore   int64
	afterResume []int64
}

// sampleAfter is how many numbers received after the first resumption
// a stream keeps for the report.
const sampleAfter = 24

// Run sets up the sessions and streams, raises the broadcasts, kills the
// victim, and returns what was measured: Result's counts and latency are
// those of the broadcast calls, Result.GetKill has the rest. It returns
// an error if no stream could be opened or the victim could not be killed
// (with what was measured up to then).
func (g *GetKill) Run(ctx context.Context) (Result, error) {
	g.n = g.Client.Nodes()
	if g.Nodes != nil && len(g.Nodes) != g.n {
		return Result{}, fmt.Errorf("load: getkill: %d server processes for %d URLs", len(g.Nodes), g.n)
	}
	kill := len(g.Nodes) > 1 && g.Victim >= 0
	if kill && g.Victim >= g.n {
		return Result{}, fmt.Errorf("load: getkill: no node %d to kill", g.Victim)
	}
	if g.Streams <= 0 {
		g.Streams = 1000
	}
	if g.Rate <= 0 {
		g.Rate = 50
	}
	if g.Warmup <= 0 {
		g.Warmup = time.Second
	}
	if g.Steady <= 0 {
		g.Steady = 5 * time.Second
	}
	if g.Drain <= 0 {
		g.Drain = 5 * time.Second
	}
	if g.Concurrency <= 0 {
		g.Concurrency = 64
	}
	if g.ResumeTries <= 0 {
		g.ResumeTries = 30
	}
	if g.ResumeWithin <= 0 {
		g.ResumeWithin = 15 * time.Second
	}
	if g.ResumeBackoff <= 0 {
		g.ResumeBackoff = 50 * time.Millisecond
	}
	g.resumeHist, g.firstHist, g.delayHist = newHist(), newHist(), newHist()
	gr := &GetKillResult{Nodes: g.n, Streams: g.Streams, Victim: -1, Rate: g.Rate}
	if kill {
		gr.Victim = g.Victim
		g.source = (g.Victim + 1) % g.n
	}
	statuses := map[string]int64{}
	var smu sync.Mutex
	fail := func(what string) {
		smu.Lock()
		statuses[what]++
		smu.Unlock()
	}

	// 1. The sessions, their log level, and their GET streams.
	t0 := time.Now()
	streams := make([]*gkStream, g.Streams)
	forEach(ctx, g.Streams, g.Concurrency, func(i int) {
		sid, version, failed := g.Client.Handshake(int64(i + 1))
		if failed != nil {
			fail("handshake " + failed.Key())
			return
		}
		if r := g.setLevel(sid, version, int64(i+1)); !r.OK() || !r.Result {
			fail("logging/setLevel " + r.Key())
			return
		}
		node := i % g.n
		octx, cancel := context.WithTimeout(ctx, g.Client.timeout)
		st, status, err := g.Client.OpenStreamAt(octx, node, sid, version, "")
		cancel()
		switch {
		case err != nil:
			fail("GET error: " + errReason(err))
			return
		case st == nil:
			fail("GET " + strconv.Itoa(status))
			return
		}
		streams[i] = &gkStream{idx: i, sid: sid, version: version, node: node, first: node, st: st, statuses: map[string]int64{}}
	})
	gr.EstablishMs = msSince(t0)
	var live []*gkStream
	for _, s := range streams {
		if s != nil {
			live = append(live, s)
		}
	}
	gr.Opened = len(live)
	srcSID, srcVersion, failed := g.Client.Handshake(int64(g.Streams + 1))
	if len(live) == 0 || failed != nil {
		for _, s := range live {
			s.st.Close()
		}
		res := Result{Statuses: statuses, GetKill: gr}
		if failed != nil {
			return res, errors.Join(fmt.Errorf("load: getkill: the broadcasting session: %s", failed.Key()), ctx.Err())
		}
		return res, errors.Join(errors.New("load: getkill: no GET stream could be opened"), ctx.Err())
	}

	// 2. The readers, and the broadcasts with the kill in the middle.
	total := g.Warmup + 2*g.Steady
	g.raised = make([]atomic.Int64, int(g.Rate*total.Seconds())+2)
	g.start = time.Now()
	steadyFrom, steadyTo := g.Warmup, g.Warmup+g.Steady
	var readers sync.WaitGroup
	for _, s := range live {
		readers.Add(1)
		go func() { // owner: Run; exit: the stream ends for good (Run closes it, or it is not resumed)
			defer readers.Done()
			defer s.done.Store(true)
			g.read(ctx, s)
		}()
	}
	rec := NewRecorder(g.start, g.Window)
	stopRaise := make(chan struct{})
	raised := make(chan struct{})
	go func() { // owner: Run; exit: stopRaise is closed, ctx is done, or the numbers run out
		defer close(raised)
		g.raise(ctx, srcSID, srcVersion, rec, stopRaise)
	}()
	delivered := func() int64 {
		var n int64
		for _, s := range live {
			n += s.events.Load()
		}
		return n
	}
	var killErr error
	var evAt, evTo int64
	var seqAt, seqTo int64
	var atT, toT time.Time
	if sleepUntil(ctx, g.start.Add(steadyFrom)) {
		atT, evAt, seqAt = time.Now(), delivered(), g.lastSeq.Load()
		if sleepUntil(ctx, g.start.Add(steadyTo)) {
			toT, evTo, seqTo = time.Now(), delivered(), g.lastSeq.Load()
			if kill {
				for _, s := range live {
					if s.nodeNow() == g.Victim {
						gr.OnVictim++
					}
				}
				gr.KillAtS = Round3(time.Since(g.start).Seconds())
				g.killAt.Store(int64(max(time.Since(g.start), 1)))
				g.Client.MarkDown(g.Victim)
				killErr = g.Nodes[g.Victim].StopWith(syscall.SIGKILL)
				g.Client.CloseIdleConnectionsTo(g.Victim)
			}
			sleepUntil(ctx, g.start.Add(total))
		}
	}
	close(stopRaise)
	<-raised
	last := g.lastSeq.Load()
	gr.Broadcasts, gr.BroadcastFailed = last-g.failedBr.Load(), g.failedBr.Load()
	if !toT.IsZero() {
		d := toT.Sub(atT).Seconds()
		gr.SteadyS = Round3(d)
		gr.SteadyBroadcasts = Round1(float64(seqTo-seqAt) / d)
		gr.SteadyEvents = Round1(float64(evTo-evAt) / d)
		gr.SteadyExpected = Round1(float64(seqTo-seqAt) * float64(len(live)) / d)
	}

	// 3. Drain: wait until every stream that is still open got the last
	// broadcast, or Drain.
	drainTo := time.Now().Add(g.Drain)
	for ctx.Err() == nil && time.Now().Before(drainTo) {
		behind := 0
		for _, s := range live {
			if s.maxSeq.Load() < last && !s.done.Load() {
				behind++
			}
		}
		if behind == 0 {
			break
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
	for _, s := range live {
		s.closing.Store(true)
	}
	for _, s := range live {
		s.closeStream()
	}
	readers.Wait()
	g.Client.Delete(srcSID, srcVersion)

	// 4. Check each stream.
	skip := func(n int64) bool { return n < int64(len(g.raised)) && g.raised[n].Load() == 0 }
	gr.ResumeStatuses = map[string]int64{}
	gr.Source = g.source
	gr.PerNode = make([]NodeCheck, g.n)
	for i := range gr.PerNode {
		gr.PerNode[i].Node = i
	}
	for _, s := range live {
		c := &s.check
		lost, dup := c.Lost(last, skip), c.Duplicated()
		pn := &gr.PerNode[s.first]
		pn.Streams++
		pn.Lost += lost
		pn.Duplicated += dup
		pn.OutOfOrder += c.OutOfOrder()
		gr.Events += c.Received()
		gr.Lost += lost
		gr.Duplicated += dup
		gr.OutOfOrder += c.OutOfOrder()
		if lost > 0 {
			gr.StreamsWithLoss++
		}
		if gr.Example == nil && s.resumed > 0 && (lost > 0 || dup > 0 || c.OutOfOrder() > 0) {
			gr.Example = &ResumeExample{Stream: s.idx, From: s.first, To: s.resumedOn, MaxBefore: s.maxBefore, After: s.afterResume,
				Lost: lost, Dup: dup, OutOfOrd: c.OutOfOrder()}
		}
		if dup > 0 {
			gr.StreamsWithDup++
		}
		if s.victimBreaks > 0 {
			gr.VictimLost += lost
			gr.VictimDuplicated += dup
		}
		if c.First() == 0 {
			gr.Silent++
		} else if c.Max() < last {
			gr.Behind++
		}
		gr.FirstSeqMax = max(gr.FirstSeqMax, c.First())
		if s.breaks > 0 {
			gr.Breaks++
		}
		if s.victimBreaks > 0 {
			gr.VictimBreaks++
		}
		gr.Resumed += min(s.resumed, 1)
		if s.notResumed {
			gr.NotResumed++
		}
		if s.firstMissed || !s.waitFirst.IsZero() { // resumed, and no event came before the next break or the end
			gr.FirstEventMissed++
		}
		gr.ResumeGETs += s.gets
		gr.Conflicts += s.conflicts
		gr.Unavailable += s.unavailable
		gr.Refused += s.refused
		for k, v := range s.statuses {
			gr.ResumeStatuses[k] += v
		}
	}
	g.hmu.Lock()
	rs, fs, ds := SummaryOf(g.resumeHist), SummaryOf(g.firstHist), SummaryOf(g.delayHist)
	g.hmu.Unlock()
	gr.ResumeP50Ms, gr.ResumeP99Ms, gr.ResumeMaxMs = rs.P50, rs.P99, rs.Max
	gr.FirstEventP50Ms, gr.FirstEventP99Ms, gr.FirstEventMaxMs = fs.P50, fs.P99, fs.Max
	gr.DelayP50Ms, gr.DelayP99Ms, gr.DelayMaxMs = ds.P50, ds.P99, ds.Max
	gr.Targets = getKillTargets(gr)

	res := rec.Result(time.Now())
	res.Loop, res.TargetRate, res.Concurrency = "open", g.Rate, 1
	for k, v := range statuses {
		res.Statuses[k] += v
	}
	res.GetKill = gr
	var err error
	if killErr != nil {
		err = fmt.Errorf("load: getkill: killing node %d: %w", g.Victim, killErr)
	}
	return res, errors.Join(err, ctx.Err())
}

// setLevel sends logging/setLevel debug in session sid, so that the
// broadcasts (info) reach its GET stream.
func (g *GetKill) setLevel(sid, version string, id int64) Response {
	return g.Client.Do(&Request{
		Method: fasthttp.MethodPost, SessionID: sid, Version: version,
		Msg: &Message{ID: id, Method: "logging/setLevel", Params: []byte(`{"level":"debug"}`)},
	})
}

// raise sends the broadcasts 1, 2, 3, … to the source node at Rate, one
// at a time, until stop is closed, ctx is done or the numbers run out.
// A broadcast due while the one before is still in flight goes as soon as
// it ends; its call's latency is measured from when it was due.
func (g *GetKill) raise(ctx context.Context, sid, version string, rec *Recorder, stop <-chan struct{}) {
	interval := time.Duration(float64(time.Second) / g.Rate)
	params := make([]byte, 0, 64)
	for seq := int64(1); seq < int64(len(g.raised)); seq++ {
		due := g.start.Add(time.Duration(seq-1) * interval)
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-stop:
				t.Stop()
				return
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		select {
		case <-stop:
			return
		default:
		}
		params = append(params[:0], `{"name":"broadcast","arguments":{"seq":`...)
		params = strconv.AppendInt(params, seq, 10)
		params = append(params, `}}`...)
		sent := time.Now()
		// The number is marked raised before the call: the event may
		// reach a stream before the call's answer reaches us.
		g.raised[seq].Store(int64(max(sent.Sub(g.start), 1)))
		r := g.Client.DoAt(g.source, &Request{
			Method: fasthttp.MethodPost, SessionID: sid, Version: version, Accept: AcceptJSON,
			Msg: &Message{ID: seq, Method: "tools/call", Params: params},
		})
		ok := r.OK() && r.Result
		if !ok {
			g.raised[seq].Store(0)
			g.failedBr.Add(1)
		}
		g.lastSeq.Store(seq)
		rec.Record(due, time.Now(), ok, r.Key())
		if g.Progress != nil {
			g.Progress.Add(1)
		}
	}
}

var (
	tokSeq    = []byte(`"seq":`)
	tokLogger = []byte(`"logger":"loadtest"`)
)

// parseSeq returns the broadcast number of an event's data, or 0 if it
// is not a broadcast.
func parseSeq(data []byte) int64 {
	if !bytes.Contains(data, tokLogger) {
		return 0
	}
	i := bytes.Index(data, tokSeq)
	if i < 0 {
		return 0
	}
	rest := bytes.TrimLeft(data[i+len(tokSeq):], " ")
	var n int64
	for _, b := range rest {
		if b < '0' || b > '9' {
			break
		}
		n = n*10 + int64(b-'0')
	}
	return n
}

// read reads s's stream, and resumes it wherever it breaks, until Run
// closes it or it cannot be resumed.
func (g *GetKill) read(ctx context.Context, s *gkStream) {
	onEvent := func(id, data []byte) {
		if id != nil { // the last event ID, as an SSE client keeps it
			s.lastID = append(s.lastID[:0], id...)
		}
		seq := parseSeq(data)
		if seq == 0 {
			return
		}
		now := time.Now()
		s.check.Add(seq)
		s.events.Add(1)
		if s.resumed > 0 && len(s.afterResume) < sampleAfter {
			s.afterResume = append(s.afterResume, seq)
		}
		s.maxSeq.Store(s.check.Max())
		if !s.waitFirst.IsZero() {
			g.record(g.firstHist, now.Sub(s.waitFirst))
			s.waitFirst = time.Time{}
		}
		if t := now.Sub(g.start); t >= g.Warmup && t < g.Warmup+g.Steady && seq < int64(len(g.raised)) {
			if at := g.raised[seq].Load(); at > 0 {
				g.record(g.delayHist, now.Sub(g.start.Add(time.Duration(at))))
			}
		}
	}
	for {
		_ = s.st.ReadEvents(onEvent)
		if s.closing.Load() || ctx.Err() != nil {
			return
		}
		broke := time.Now()
		s.breaks++
		if s.breaks == 1 {
			s.maxBefore = s.check.Max()
		}
		if k := g.killAt.Load(); k > 0 && s.node == g.Victim && len(g.Nodes) > 1 {
			s.victimBreaks++
		}
		if !s.waitFirst.IsZero() { // broke again before an event came
			s.firstMissed = true
		}
		if !g.resume(ctx, s) {
			if !s.closing.Load() {
				s.notResumed = true
			}
			return
		}
		g.record(g.resumeHist, time.Since(broke))
		if s.resumed == 0 {
			s.resumedOn = s.node
		}
		s.resumed++
		s.waitFirst = broke
	}
}

// resume opens s's stream again on the next nodes, with Last-Event-ID,
// as [GetKill] describes. It reports whether it did.
func (g *GetKill) resume(ctx context.Context, s *gkStream) bool {
	deadline := time.Now().Add(g.ResumeWithin)
	backoff := g.ResumeBackoff
	for try := 0; try < g.ResumeTries && time.Now().Before(deadline); try++ {
		if s.closing.Load() || ctx.Err() != nil {
			return false
		}
		s.setNode((s.node + 1) % g.n)
		s.gets++
		octx, cancel := context.WithTimeout(ctx, g.Client.timeout)
		st, status, err := g.Client.OpenStreamAt(octx, s.node, s.sid, s.version, string(s.lastID))
		cancel()
		switch {
		case st != nil:
			if !s.setStream(st) { // Run closed it meanwhile
				st.Close()
				return false
			}
			return true
		case err != nil && IsConnRefused(err):
			s.refused++
			continue // the node is down: the next one, at once
		case err != nil:
			s.statuses["error: "+errReason(err)]++
		case status == 409:
			s.conflicts++
		case status == 503:
			s.unavailable++
		default:
			s.statuses[strconv.Itoa(status)]++
			return false
		}
		if !sleepCtx(ctx, backoff) {
			return false
		}
		backoff = min(2*backoff, time.Second)
	}
	return false
}

// record records d in h.
func (g *GetKill) record(h *hdrhistogram.Histogram, d time.Duration) {
	us := min(max(d.Microseconds(), histMin), histMax)
	g.hmu.Lock()
	_ = h.RecordValue(us)
	g.hmu.Unlock()
}

func (s *gkStream) nodeNow() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.node
}

func (s *gkStream) setNode(n int) {
	s.mu.Lock()
	s.node = n
	s.mu.Unlock()
}

// setStream makes st s's stream, unless Run is closing it.
func (s *gkStream) setStream(st *Stream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.st = st
	return true
}

// closeStream closes s's stream; with closing set first, the reader
// exits.
func (s *gkStream) closeStream() {
	s.mu.Lock()
	st := s.st
	s.mu.Unlock()
	st.Close()
}

// getKillTargets returns issue #11's targets: every broadcast from the
// first each stream saw to the last, exactly once (0 lost, 0 duplicated),
// and with a kill, every stream that broke resumed elsewhere.
func getKillTargets(r *GetKillResult) []Target {
	count := func(name string, got int64) Target {
		return Target{Name: name, Want: "0", Got: fmt.Sprint(got), Met: got == 0}
	}
	t := []Target{
		count("lost events", r.Lost),
		count("duplicated events", r.Duplicated),
		count("events out of order", r.OutOfOrder),
		count("streams that got no broadcast", int64(r.Silent)),
	}
	if r.Victim >= 0 {
		t = append(t,
			Target{Name: "streams on the killed node resumed elsewhere", Want: fmt.Sprint(r.OnVictim),
				Got: fmt.Sprint(r.VictimBreaks - r.NotResumed), Met: r.VictimBreaks == r.OnVictim && r.NotResumed == 0},
			count("streams not resumed", int64(r.NotResumed)))
	}
	return t
}

// sleepUntil waits until t or ctx is done; it reports whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool { return sleepCtx(ctx, time.Until(t)) }
