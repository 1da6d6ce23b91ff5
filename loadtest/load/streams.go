package load

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Hold opens K GET streams (one session each) and holds them open.
type Hold struct {
	Client *Client
	// Streams is K. Default: 100.
	Streams int
	// Concurrency bounds the handshakes and opens in flight. Default: 64.
	Concurrency int
	// For is how long the streams are held once open. Default: 10s.
	For time.Duration
	// Delete ends each session with DELETE at the end. Default: false
	// (the connections are just closed).
	Delete bool
	// Progress, if set, is incremented as streams open.
	Progress *atomic.Int64
	// Sample, if set, is called once a second while the streams are held.
	Sample func()
}

// A StreamsResult is what [Hold] measured.
type StreamsResult struct {
	Wanted int `json:"wanted"`
	// Opened streams got 200 text/event-stream.
	Opened int `json:"opened"`
	// Failed streams could not be opened (see the statuses); Dropped ones
	// were opened and ended before the end of the hold.
	Failed  int `json:"failed"`
	Dropped int `json:"dropped"`
	// OpenMs is how long opening all of them took.
	OpenMs float64 `json:"open_ms"`
	HeldS  float64 `json:"held_s"`
	// Events and Comments are what the server sent on the streams during
	// the hold (events with data; SSE comments such as keep-alives).
	Events   int64 `json:"events"`
	Comments int64 `json:"comments"`
}

// Run opens the streams, holds them, and closes them. The Result's latency
// is the time to open each stream (handshake not included); its statuses
// are those of the handshakes and GETs that failed and of the GETs that
// succeeded.
func (h *Hold) Run(ctx context.Context) Result {
	if h.Streams <= 0 {
		h.Streams = 100
	}
	if h.Concurrency <= 0 {
		h.Concurrency = 64
	}
	if h.For <= 0 {
		h.For = 10 * time.Second
	}
	start := time.Now()
	rec := NewRecorder(start, time.Second)
	sr := &StreamsResult{Wanted: h.Streams}
	type held struct {
		st           *Stream
		sid, version string
		done         chan struct{}
	}
	streams := make([]*held, h.Streams)
	var dropped atomic.Int64
	var mu sync.Mutex
	holdCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	forEach(ctx, h.Streams, h.Concurrency, func(i int) {
		sid, version, failed := h.Client.Handshake(int64(i + 1))
		if failed != nil {
			rec.Record(time.Now(), time.Now(), false, "handshake "+failed.Key())
			return
		}
		t := time.Now()
		octx, ocancel := context.WithTimeout(ctx, h.Client.timeout)
		st, status, err := h.Client.OpenStream(octx, sid, version)
		ocancel()
		switch {
		case err != nil:
			rec.Record(t, time.Now(), false, "error: "+errReason(err))
			return
		case st == nil:
			rec.Record(t, time.Now(), false, strconv.Itoa(status))
			return
		}
		rec.Record(t, time.Now(), true, "200")
		hs := &held{st: st, sid: sid, version: version, done: make(chan struct{})}
		mu.Lock()
		streams[i] = hs
		mu.Unlock()
		go func() { // owner: Run; exit: the stream ends or Run closes it
			defer close(hs.done)
			_ = st.Read(nil)
			if holdCtx.Err() == nil {
				dropped.Add(1)
			}
		}()
		if h.Progress != nil {
			h.Progress.Add(1)
		}
	})
	sr.OpenMs = msSince(start)
	for _, hs := range streams {
		if hs != nil {
			sr.Opened++
		}
	}
	sr.Failed = h.Streams - sr.Opened

	heldFrom := time.Now()
	tick := time.NewTicker(time.Second)
	end := time.NewTimer(h.For)
	interrupted := false
hold:
	for {
		select {
		case <-ctx.Done():
			interrupted = true
			break hold
		case <-end.C:
			break hold
		case <-tick.C:
			if h.Sample != nil {
				h.Sample()
			}
		}
	}
	tick.Stop()
	end.Stop()
	sr.HeldS = Round3(time.Since(heldFrom).Seconds())
	sr.Dropped = int(dropped.Load())
	cancel()
	for _, hs := range streams {
		if hs == nil {
			continue
		}
		sr.Events += hs.st.Events()
		sr.Comments += hs.st.Comments()
		hs.st.Close()
		<-hs.done
	}
	if h.Delete && !interrupted {
		forEach(context.Background(), len(streams), h.Concurrency, func(i int) {
			if hs := streams[i]; hs != nil {
				h.Client.Delete(hs.sid, hs.version)
			}
		})
	}
	res := rec.Result(time.Now())
	res.Interrupted = interrupted
	res.Concurrency = h.Concurrency
	res.Streams = sr
	return res
}
