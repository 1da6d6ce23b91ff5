package transport

import "time"

// workerIdle is how long an idle call worker waits for more work before it
// exits.
const workerIdle = 10 * time.Second

// workers runs the calls that do not run inline on goroutines it keeps for
// reuse, as fasthttp's worker pool does for connections: a goroutine whose
// stack grew for one call (goccy/go-json's encoder is stack-hungry) keeps
// it for the next, instead of every call paying the growth again. There is
// no cap: a call never waits for a worker.
//
// Owner: the Handler. A worker exits after workerIdle without work, or when
// the Handler's stop channel closes (the end of Shutdown).
type workers struct {
	ready chan func() // unbuffered: a send succeeds only if a worker is idle
	stop  <-chan struct{}
}

func newWorkers(stop <-chan struct{}) *workers {
	return &workers{ready: make(chan func()), stop: stop}
}

// run runs f on an idle worker, or on a new one.
func (w *workers) run(f func()) {
	select {
	case w.ready <- f:
	default:
		go w.loop(f)
	}
}

func (w *workers) loop(f func()) {
	t := time.NewTimer(workerIdle)
	defer t.Stop()
	for {
		f()
		t.Reset(workerIdle)
		select {
		case f = <-w.ready:
		case <-t.C:
			return
		case <-w.stop:
			return
		}
	}
}
