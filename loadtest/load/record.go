package load

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1 µs to 10 min, with 3
// significant digits (HdrHistogram).
const (
	histMin     = 1
	histMax     = int64(10 * time.Minute / time.Microsecond)
	histSigFigs = 3
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histSigFigs) }

// A Recorder collects latencies and outcomes: one HdrHistogram for the
// whole run and one per time window (for the latency-over-time chart). It
// is safe for concurrent use (one mutex; at the rates a 2-core machine
// reaches, it is not contended enough to matter).
type Recorder struct {
	start  time.Time
	window time.Duration

	mu       sync.Mutex // guards the fields below
	total    *hdrhistogram.Histogram
	cur      *hdrhistogram.Histogram
	prev     *hdrhistogram.Histogram // the last closed window (see Result)
	curIdx   int
	curErrs  int64
	prevErrs int64
	windows  []Window
	ok, errs int64
	statuses map[string]int64
}

// NewRecorder returns a Recorder whose windows of width window (default
// 1s) start at start.
func NewRecorder(start time.Time, window time.Duration) *Recorder {
	if window <= 0 {
		window = time.Second
	}
	return &Recorder{
		start: start, window: window,
		total: newHist(), cur: newHist(), prev: newHist(),
		statuses: make(map[string]int64),
	}
}

// Record records one operation that was meant to start at intended (in
// open-loop mode, its scheduled time; in closed-loop mode, when it
// started) and ended at end, with its outcome.
func (r *Recorder) Record(intended, end time.Time, ok bool, status string) {
	us := max(end.Sub(intended).Microseconds(), histMin)
	us = min(us, histMax)
	idx := int(end.Sub(r.start) / r.window)
	r.mu.Lock()
	defer r.mu.Unlock()
	if idx > r.curIdx {
		r.rollLocked(idx)
	}
	_ = r.total.RecordValue(us)
	_ = r.cur.RecordValue(us)
	if ok {
		r.ok++
	} else {
		r.errs++
		r.curErrs++
	}
	r.statuses[status]++
}

// rollLocked closes the current window and any empty ones up to idx.
func (r *Recorder) rollLocked(idx int) {
	for r.curIdx < idx {
		r.windows = append(r.windows, windowOf(r.cur, r.curIdx, r.window, r.curErrs))
		r.prev, r.cur = r.cur, r.prev
		r.cur.Reset()
		r.prevErrs, r.curErrs = r.curErrs, 0
		r.curIdx++
	}
}

func windowOf(h *hdrhistogram.Histogram, idx int, width time.Duration, errs int64) Window {
	n := h.TotalCount()
	w := Window{
		T:      Round3((time.Duration(idx+1) * width).Seconds()),
		Count:  n,
		Errors: errs,
		Rate:   Round1(float64(n) / width.Seconds()),
	}
	if n > 0 {
		w.P50 = ms(h.ValueAtQuantile(50))
		w.P90 = ms(h.ValueAtQuantile(90))
		w.P99 = ms(h.ValueAtQuantile(99))
		w.Max = ms(h.Max())
	}
	return w
}

func ms(us int64) float64 { return float64(us) / 1e3 }

// Round3 rounds x to 3 decimals: seconds to the millisecond, milliseconds
// to the microsecond, as every time in a Result is.
func Round3(x float64) float64 { return math.Round(x*1e3) / 1e3 }

// Round1 rounds x to 1 decimal, as every rate in a Result is.
func Round1(x float64) float64 { return math.Round(x*10) / 10 }

// Result returns what was recorded, the partial window included, as of
// now.
func (r *Recorder) Result(now time.Time) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	elapsed := now.Sub(r.start)
	res := Result{
		Started:  r.start,
		Elapsed:  Duration(elapsed),
		Requests: r.ok + r.errs,
		OK:       r.ok,
		Errors:   r.errs,
		Latency:  SummaryOf(r.total),
		Statuses: make(map[string]int64, len(r.statuses)),
		Windows:  append([]Window(nil), r.windows...),
		Buckets:  BucketsOf(r.total, 40),
	}
	if elapsed > 0 {
		res.Throughput = Round1(float64(res.Requests) / elapsed.Seconds())
	}
	for k, v := range r.statuses {
		res.Statuses[k] = v
	}
	if r.cur.TotalCount() > 0 {
		// The last window is partial: its rate is over the time it covers.
		// A sliver of a window (the few operations that ended just after
		// the last full one) would show an absurd rate, so it is merged
		// into the window before it.
		part := elapsed - time.Duration(r.curIdx)*r.window
		h, idx, errs, width := r.cur, r.curIdx, r.curErrs, part
		if part < r.window/10 && len(res.Windows) > 0 && len(r.windows) == r.curIdx {
			h = hdrhistogram.Import(r.prev.Export())
			h.Merge(r.cur)
			idx, errs, width = r.curIdx-1, r.prevErrs+r.curErrs, r.window+part
			res.Windows = res.Windows[:len(res.Windows)-1]
		}
		w := windowOf(h, idx, r.window, errs)
		if width > 0 && width != r.window {
			w.T = Round3(elapsed.Seconds())
			w.Rate = Round1(float64(w.Count) / width.Seconds())
		}
		res.Windows = append(res.Windows, w)
	}
	return res
}

// A Window is the latency and throughput of one time window of a run.
type Window struct {
	T      float64 `json:"t_s"` // end of the window, seconds since the start
	Count  int64   `json:"count"`
	Errors int64   `json:"errors"`
	Rate   float64 `json:"rate"` // operations per second
	P50    float64 `json:"p50_ms"`
	P90    float64 `json:"p90_ms"`
	P99    float64 `json:"p99_ms"`
	Max    float64 `json:"max_ms"`
}

// A Summary is a latency distribution in milliseconds.
type Summary struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min_ms"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

// SummaryOf summarises a histogram of microseconds.
func SummaryOf(h *hdrhistogram.Histogram) Summary {
	if h.TotalCount() == 0 {
		return Summary{}
	}
	return Summary{
		Count: h.TotalCount(),
		Min:   ms(h.Min()),
		Mean:  math.Round(h.Mean()) / 1e3,
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}

// A Bucket is one bar of a latency histogram: Count operations took from
// FromMs to ToMs.
type Bucket struct {
	FromMs float64 `json:"from_ms"`
	ToMs   float64 `json:"to_ms"`
	Count  int64   `json:"count"`
}

// BucketsOf re-buckets h (microseconds) into at most n log-spaced buckets
// between its min and max, dropping empty leading and trailing ones.
func BucketsOf(h *hdrhistogram.Histogram, n int) []Bucket {
	if h.TotalCount() == 0 || n <= 0 {
		return nil
	}
	lo, hi := float64(max(h.Min(), 1)), float64(max(h.Max(), 1))
	if hi <= lo {
		return []Bucket{{FromMs: lo / 1e3, ToMs: hi / 1e3, Count: h.TotalCount()}}
	}
	step := math.Log(hi/lo) / float64(n)
	out := make([]Bucket, n)
	for i := range out {
		out[i].FromMs = lo * math.Exp(step*float64(i)) / 1e3
		out[i].ToMs = lo * math.Exp(step*float64(i+1)) / 1e3
	}
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		v := float64(max(b.From, 1))
		i := int(math.Log(v/lo) / step)
		i = min(max(i, 0), n-1)
		out[i].Count += b.Count
	}
	first, last := 0, len(out)-1
	for first < last && out[first].Count == 0 {
		first++
	}
	for last > first && out[last].Count == 0 {
		last--
	}
	return out[first : last+1]
}

// SortedKeys returns the keys of m in order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
