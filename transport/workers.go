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
	ready chan job // unbuffered: a send succeeds only if a worker is idle
	stop  <-chan struct{}
}

// A job is what a worker runs. A pointer type implements it without an
// allocation per job, where a method value (f.run) would take one.
type job interface{ run() }

// funcJob is a func() as a [job]; converting a func to it does not
// allocate.
type funcJob func()

func (f funcJob) run() { f() }

func newWorkers(stop <-chan struct{}) *workers {
	return &workers{ready: make(chan job), stop: stop}
}

// run runs j on an idle worker, or on a new one. It allocates only when it
// starts a worker.
func (w *workers) run(j job) {
	select {
	case w.ready <- j:
	default:
		go w.loop(j)
	}
}

func (w *workers) loop(j job) {
	t := time.NewTimer(workerIdle)
	defer t.Stop()
	for {
		j.run()
		t.Reset(workerIdle)
		select {
		case j = <-w.ready:
		case <-t.C:
			return
		case <-w.stop:
			return
		}
	}
}
