package load

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A Loop says how operations are paced and when a run stops.
//
// Open loop (Rate > 0): operation i is scheduled at start + i/Rate,
// whatever happened to the ones before, and its latency is measured from
// that scheduled time, not from when a worker got to send it. A server
// that stalls therefore shows its stall in every operation that was due
// during it, rather than holding the generator back and hiding it
// (coordinated omission). Concurrency bounds the operations in flight;
// when all workers are busy, the due operations wait and their waiting
// counts in their latency.
//
// Closed loop (Rate == 0): Concurrency workers each send the next
// operation as soon as the previous one is answered; latency is the time
// of each operation.
type Loop struct {
	// Rate is the open-loop rate in operations per second; 0 means closed
	// loop.
	Rate float64
	// Concurrency is the number of workers. Default: 16.
	Concurrency int
	// Count stops the run after this many operations (0: no bound).
	Count int64
	// Duration stops the run after this long (0: no bound). A Loop with
	// neither Count nor Duration nor Until runs for DefaultDuration.
	Duration time.Duration
	// Until, if set, stops the run when it is closed, as Duration would:
	// no operation starts after, those in flight complete and are
	// recorded.
	Until <-chan struct{}
	// Start is when operation 0 is due (open loop) and the windows start.
	// Default: when Run is called.
	Start time.Time
	// Window is the width of the latency-over-time windows. Default: 1s.
	Window time.Duration
	// Done, if set, is incremented after each operation (for a progress
	// display).
	Done *atomic.Int64
}

// DefaultDuration bounds a [Loop] that sets neither Count nor Duration.
const DefaultDuration = 10 * time.Second

// An Op runs one operation: the seq-th of the run (from 0), on worker
// (from 0 to Concurrency-1). It reports whether it succeeded and a status
// to count it under (e.g. "404", "error: timeout"). It must return within
// a bounded time (the client's timeout).
type Op func(ctx context.Context, worker int, seq int64) (ok bool, status string)

// Run runs op as l says and returns what it measured. It returns when the
// run is over (Count or Duration reached), or soon after ctx is done: it
// then waits at most one second for the operations in flight, and the
// Result, marked Interrupted, covers the operations that completed.
// Operations still in flight after that finish on their own (bounded by
// the client's timeout) and are not recorded.
func Run(ctx context.Context, l Loop, op Op) Result {
	if l.Concurrency <= 0 {
		l.Concurrency = 16
	}
	if l.Count <= 0 && l.Duration <= 0 && l.Until == nil {
		l.Duration = DefaultDuration
	}
	start := l.Start
	if start.IsZero() {
		start = time.Now()
	}
	rec := NewRecorder(start, l.Window)
	var deadline time.Time
	if l.Duration > 0 {
		deadline = start.Add(l.Duration)
	}
	var interval time.Duration
	if l.Rate > 0 {
		interval = time.Duration(float64(time.Second) / l.Rate)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range l.Concurrency {
		wg.Add(1)
		go func() { // owner: Run; exit: the run is over or ctx is done
			defer wg.Done()
			timer := time.NewTimer(time.Hour)
			timer.Stop()
			for runCtx.Err() == nil {
				select {
				case <-l.Until:
					return
				default:
				}
				seq := next.Add(1) - 1
				if l.Count > 0 && seq >= l.Count {
					return
				}
				var intended time.Time
				if interval > 0 {
					intended = start.Add(time.Duration(seq) * interval)
					if !deadline.IsZero() && !intended.Before(deadline) {
						return
					}
					if d := time.Until(intended); d > 0 {
						timer.Reset(d)
						select {
						case <-runCtx.Done():
							timer.Stop()
							return
						case <-l.Until:
							timer.Stop()
							return
						case <-timer.C:
						}
					}
				} else {
					intended = time.Now()
					if !deadline.IsZero() && !intended.Before(deadline) {
						return
					}
				}
				ok, status := op(runCtx, w, seq)
				if runCtx.Err() != nil && ctx.Err() != nil {
					return // interrupted: the answer may be the interruption's
				}
				rec.Record(intended, time.Now(), ok, status)
				if l.Done != nil {
					l.Done.Add(1)
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }() // owner: Run; exit: when the workers exit
	interrupted := false
	select {
	case <-done:
	case <-ctx.Done():
		interrupted = true
		select {
		case <-done:
		case <-time.After(time.Second):
		}
	}
	res := rec.Result(time.Now())
	res.Interrupted = interrupted
	res.Concurrency = l.Concurrency
	res.Loop = "closed"
	if l.Rate > 0 {
		res.Loop = "open"
		res.TargetRate = l.Rate
	}
	return res
}

// A Result is what a scenario measured. Windows and Buckets are the
// time series and the latency histogram, for the HTML report; the JSON
// form leaves them out (they are written as lines of their own).
type Result struct {
	Scenario    string           `json:"scenario"`
	URL         string           `json:"url"`
	Loop        string           `json:"loop,omitempty"` // "open" or "closed"
	TargetRate  float64          `json:"target_rate,omitempty"`
	Concurrency int              `json:"concurrency,omitempty"`
	Started     time.Time        `json:"started"`
	Elapsed     Duration         `json:"elapsed_s"`
	Requests    int64            `json:"ops"`
	OK          int64            `json:"ok"`
	Errors      int64            `json:"errors"`
	Throughput  float64          `json:"ops_per_s"`
	Latency     Summary          `json:"latency"`
	Statuses    map[string]int64 `json:"statuses"`
	Interrupted bool             `json:"interrupted,omitempty"`
	// Notes are remarks for the reader (what a status means, what was
	// not measured).
	Notes []string `json:"notes,omitempty"`

	Storm   *StormResult   `json:"storm,omitempty"`
	Fleet   *FleetResult   `json:"fleet,omitempty"`
	Streams *StreamsResult `json:"streams,omitempty"`
	GetKill *GetKillResult `json:"getkill,omitempty"`
	Proc    []ProcSample   `json:"proc,omitempty"`

	Windows []Window `json:"-"`
	Buckets []Bucket `json:"-"`
}

// A Duration is a time.Duration written in JSON as seconds.
type Duration time.Duration

// MarshalJSON writes d as a number of seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(d).Seconds(), 'f', 3, 64), nil
}

// UnmarshalJSON reads a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s float64
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*d = Duration(s * float64(time.Second))
	return nil
}
