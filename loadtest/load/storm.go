package load

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// A Policy is how a client reacts when its session is gone.
type Policy int

const (
	// PolicySpec follows 2025-11-25 basic/transports §Session Management:
	// "When a client receives HTTP 404 in response to a request containing
	// an Mcp-Session-Id, it MUST start a new session by sending a new
	// InitializeRequest without a session ID attached." So: 404 →
	// initialize → notifications/initialized → the request again.
	// Connection errors, 429 and 5xx are retried after a jittered
	// exponential backoff (Retry-After honoured, within MaxBackoff); any
	// other answer to the stale ID (e.g. 400 or 401 from servers that do
	// not send 404) is taken as a lost session too, and the client starts
	// over after a backoff.
	PolicySpec Policy = iota
	// PolicyNaive is a client that does not trust anything but 404: on
	// any other failure it sends the same request with the same stale ID
	// again at once, up to NaiveRetries times, before starting over; and
	// it never backs off.
	PolicyNaive
)

// String returns "spec" or "naive".
func (p Policy) String() string {
	if p == PolicyNaive {
		return "naive"
	}
	return "spec"
}

// A Storm is a reconnect storm: Clients sessions are established, all of
// them are lost at once, and every client then sends a request with its
// stale session ID at the same moment and recovers as Policy says.
type Storm struct {
	Client  *Client
	Clients int
	Policy  Policy
	// NaiveRetries is how often PolicyNaive resends a stale ID on a
	// failure other than 404. Default: 3.
	NaiveRetries int
	// Accept is the Accept header of the tools/call. Default: AcceptBoth.
	Accept string
	// Lose loses every session at once: a server restart, or nil for a
	// DELETE of each session (sent with EstablishConcurrency in flight).
	Lose func(ctx context.Context) error
	// EstablishConcurrency bounds the handshakes (and DELETEs) in flight
	// before the storm. Default: 64.
	EstablishConcurrency int
	// Deadline bounds the recovery: a client that has not succeeded this
	// long after the storm started is a failure. Default: 60s.
	Deadline time.Duration
	// MaxBackoff caps a PolicySpec backoff. Default: 1s.
	MaxBackoff time.Duration
	// InFlight bounds the requests in flight during the recovery.
	// Default: the client's MaxConns, so that clients wait for a
	// connection in a cheap queue of their own rather than in the HTTP
	// client's (which arms a timer per waiter); every client is still
	// released at the same moment and its wait counts in its recovery.
	InFlight int
	// Progress, if set, is incremented once per client when its
	// handshake is over (established or not), and once more when its
	// recovery is over (recovered, failed, or never started for want of
	// a session): it reaches 2×Clients when the storm is over.
	Progress *atomic.Int64
}

// A StormResult is what a [Storm] measured. Times are in milliseconds;
// the per-client ones run from the storm's start (all stale requests
// released) to that client's first successful tools/call.
type StormResult struct {
	Clients     int     `json:"clients"`
	Policy      string  `json:"policy"`
	Established int     `json:"established"`
	EstablishMs float64 `json:"establish_ms"`
	LoseMs      float64 `json:"lose_ms"`
	Recovered   int     `json:"recovered"`
	Failures    int     `json:"failures"`
	// RecoveryMs is when the last client succeeded.
	RecoveryMs float64 `json:"recovery_ms"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	// Requests is every request sent during the recovery.
	Requests int64 `json:"requests"`
	// Wasted is every request of the recovery that did not move its
	// client forward: the 404s, the other failures and the transport
	// errors. The least a spec client can waste is one per client (the
	// stale request that learns of the 404).
	Wasted int64 `json:"wasted"`
	// NotFound is the total of 404s; NotFoundMin and NotFoundMax are per
	// client.
	NotFound    int64 `json:"not_found"`
	NotFoundMin int   `json:"not_found_min"`
	NotFoundMax int   `json:"not_found_max"`
	// Statuses counts the answers of the recovery by status.
	Statuses map[string]int64 `json:"statuses"`

	hist *hdrhistogram.Histogram
}

type stormClient struct {
	sid, version string
	notFound     int
}

// Run establishes the sessions, loses them, releases every client at once
// and waits until each has recovered or failed (or ctx is done).
func (s *Storm) Run(ctx context.Context) (*StormResult, error) {
	if s.Clients <= 0 {
		return nil, errors.New("load: storm needs at least one client")
	}
	if s.NaiveRetries <= 0 {
		s.NaiveRetries = 3
	}
	if s.EstablishConcurrency <= 0 {
		s.EstablishConcurrency = 64
	}
	if s.Deadline <= 0 {
		s.Deadline = time.Minute
	}
	if s.MaxBackoff <= 0 {
		s.MaxBackoff = time.Second
	}
	if s.InFlight <= 0 {
		s.InFlight = s.Client.MaxConns()
	}
	res := &StormResult{Clients: s.Clients, Policy: s.Policy.String(), Statuses: map[string]int64{}, hist: newHist()}
	clients := make([]*stormClient, s.Clients)

	// 1. Establish.
	t0 := time.Now()
	var firstErr error
	var mu sync.Mutex
	forEach(ctx, s.Clients, s.EstablishConcurrency, func(i int) {
		sid, version, failed := s.Client.Handshake(int64(i + 1))
		s.progress(1)
		if failed != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = errors.New("handshake: " + failed.Key())
			}
			mu.Unlock()
			return
		}
		clients[i] = &stormClient{sid: sid, version: version}
	})
	res.EstablishMs = msSince(t0)
	live := clients[:0:0]
	for _, c := range clients {
		if c != nil {
			live = append(live, c)
		}
	}
	res.Established = len(live)
	if ctx.Err() == nil {
		s.progress(int64(s.Clients - len(live))) // no session: nothing to recover
	}
	if len(live) == 0 {
		if firstErr == nil {
			firstErr = ctx.Err()
		}
		return res, errors.Join(errors.New("load: storm: no session could be established"), firstErr)
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}

	// 2. Lose every session.
	t1 := time.Now()
	if s.Lose != nil {
		if err := s.Lose(ctx); err != nil {
			return res, err
		}
	} else {
		forEach(ctx, len(live), s.EstablishConcurrency, func(i int) {
			s.Client.Delete(live[i].sid, live[i].version)
		})
	}
	res.LoseMs = msSince(t1)
	s.Client.CloseIdleConnections()

	// 3. The storm: every client at once.
	var (
		wg        sync.WaitGroup
		requests  atomic.Int64
		wasted    atomic.Int64
		recovered atomic.Int64
		statusMu  sync.Mutex
		lastOK    time.Duration
	)
	fire := make(chan struct{})
	slots := make(chan struct{}, s.InFlight)
	start := time.Now()
	deadline := start.Add(s.Deadline)
	for i, c := range live {
		wg.Add(1)
		go func() { // owner: Run; exit: recovered, failed, deadline or ctx
			defer wg.Done()
			<-fire
			local := map[string]int64{}
			ok := s.recover(ctx, c, int64(1_000_000+i*10), deadline, slots, &requests, &wasted, local)
			took := time.Since(start)
			statusMu.Lock()
			for k, v := range local {
				res.Statuses[k] += v
			}
			if ok {
				_ = res.hist.RecordValue(max(took.Microseconds(), 1))
				lastOK = max(lastOK, took)
			}
			statusMu.Unlock()
			if ok {
				recovered.Add(1)
			}
			s.progress(1)
		}()
	}
	start = time.Now()
	deadline = start.Add(s.Deadline)
	close(fire)
	wg.Wait()

	res.Recovered = int(recovered.Load())
	res.Failures = s.Clients - res.Recovered
	res.RecoveryMs = float64(lastOK.Microseconds()) / 1e3
	sum := SummaryOf(res.hist)
	res.P50Ms, res.P99Ms, res.MaxMs = sum.P50, sum.P99, sum.Max
	res.Requests, res.Wasted = requests.Load(), wasted.Load()
	res.NotFoundMin = -1
	for _, c := range live {
		res.NotFound += int64(c.notFound)
		if res.NotFoundMin < 0 || c.notFound < res.NotFoundMin {
			res.NotFoundMin = c.notFound
		}
		res.NotFoundMax = max(res.NotFoundMax, c.notFound)
	}
	return res, ctx.Err()
}

func (s *Storm) progress(n int64) {
	if s.Progress != nil && n > 0 {
		s.Progress.Add(n)
	}
}

// Histogram returns the per-client recovery times (µs).
func (r *StormResult) Histogram() *hdrhistogram.Histogram { return r.hist }

// recover drives one client from its stale session to a successful
// tools/call, and reports whether it got there before deadline.
func (s *Storm) recover(ctx context.Context, c *stormClient, id int64, deadline time.Time, slots chan struct{}, requests, wasted *atomic.Int64, statuses map[string]int64) bool {
	const (
		stepCall = iota
		stepInit
		stepInitialized
	)
	step := stepCall
	naiveLeft := s.NaiveRetries
	attempt := 0
	for time.Now().Before(deadline) && ctx.Err() == nil {
		id++
		var r Response
		slots <- struct{}{}
		switch step {
		case stepCall:
			r = s.Client.Call(c.sid, c.version, id, s.Accept)
		case stepInit:
			r = s.Client.Initialize(id)
		case stepInitialized:
			r = s.Client.Initialized(c.sid, c.version)
		}
		<-slots
		requests.Add(1)
		statuses[r.Key()]++
		if r.OK() && (step != stepCall || r.Result) && (step != stepInit || r.SessionID != "") {
			attempt = 0
			switch step {
			case stepCall:
				return true
			case stepInit:
				c.sid, c.version = r.SessionID, r.Version
				if c.version == "" {
					c.version = s.Client.ProtocolVersion()
				}
				step = stepInitialized
			case stepInitialized:
				step = stepCall
			}
			continue
		}
		wasted.Add(1)
		if r.Status == 404 && step != stepInit {
			c.notFound++
			step = stepInit // the session is gone: start over
			continue
		}
		transient := r.Err != nil || r.Status == 429 || r.Status >= 500
		if s.Policy == PolicyNaive {
			if step == stepCall && naiveLeft > 0 {
				naiveLeft-- // the same stale ID again, at once
				continue
			}
			if !transient && step != stepInit {
				step = stepInit
			}
			continue
		}
		if !transient && step != stepInit {
			step = stepInit // a non-404 refusal of the stale ID: start over
		}
		attempt++
		if !sleepCtx(ctx, backoff(attempt, r.RetryAfter, s.MaxBackoff)) {
			return false
		}
	}
	return false
}

// backoff returns a full-jitter exponential backoff from 10 ms, or the
// server's Retry-After, capped at limit.
func backoff(attempt, retryAfter int, limit time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(time.Duration(retryAfter)*time.Second, limit)
	}
	d := min(10*time.Millisecond<<min(attempt-1, 10), limit)
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// forEach calls f(i) for i in [0, n) with at most conc calls in flight,
// and returns when all have returned (or, once ctx is done, without
// starting more).
func forEach(ctx context.Context, n, conc int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Add(1)
		go func() { // owner: forEach; exit: no work left or ctx done
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// ForEach is forEach for the other scenarios and for the benchmarks.
func ForEach(ctx context.Context, n, conc int, f func(i int)) { forEach(ctx, n, conc, f) }

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1e3 }
