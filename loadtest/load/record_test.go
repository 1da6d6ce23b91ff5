package load

import (
	"testing"
	"time"
)

// TestRecorderTail checks that the few operations that end just after
// the last full window are merged into it, rather than making a window
// of their own whose rate is their count over a sliver of time.
func TestRecorderTail(t *testing.T) {
	start := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	r := NewRecorder(start, time.Second)
	for i := range 100 {
		end := at(time.Duration(i) * 10 * time.Millisecond) // 0 … 0.99s
		r.Record(end, end, true, "ok")
	}
	for range 100 {
		r.Record(at(1500*time.Millisecond), at(1500*time.Millisecond), true, "ok")
	}
	r.Record(at(2000*time.Millisecond+100*time.Microsecond), at(2000*time.Millisecond+100*time.Microsecond), false, "error")

	res := r.Result(at(2000*time.Millisecond + 200*time.Microsecond))
	if len(res.Windows) != 2 {
		t.Fatalf("windows %+v, want 2: the tail merged into the second", res.Windows)
	}
	w := res.Windows[1]
	if w.Count != 101 || w.Errors != 1 || w.T != 2 || w.Rate != 101 {
		t.Errorf("last window %+v, want 101 ops (1 error) ending at 2s (rounded), at 101/s", w)
	}
	if res.Throughput != 100.5 {
		t.Errorf("throughput %v, want 201 ops / 2.0002 s rounded to 100.5", res.Throughput)
	}

	// A partial window of a tenth or more stands on its own.
	r = NewRecorder(start, time.Second)
	r.Record(at(500*time.Millisecond), at(500*time.Millisecond), true, "ok")
	r.Record(at(1300*time.Millisecond), at(1300*time.Millisecond), true, "ok")
	res = r.Result(at(1400 * time.Millisecond))
	if len(res.Windows) != 2 || res.Windows[1].T != 1.4 || res.Windows[1].Rate != 2.5 {
		t.Errorf("windows %+v, want the second ending at 1.4s at 1/0.4s = 2.5/s", res.Windows)
	}
}
